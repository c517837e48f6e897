"""The names and constants of the cache format, version 1.

Every HDF5 path the project uses is spelled here and nowhere else, so the
reader, the writer and the README's "Cache format" section cannot drift apart.
Other tools can read a cache with plain h5py by following these names.
"""

from __future__ import annotations

FORMAT_NAME = "blocks-tui-cache"
FORMAT_VERSION = 1
PARTIAL_SUFFIX = ".partial"

# Root attributes.
ATTR_FORMAT = "format"
ATTR_VERSION = "format_version"
ATTR_PRODUCER = "producer"
ATTR_CREATED = "created"
ATTR_COMPLETE = "complete"
ATTR_CONFIG = "config"
ATTR_PROGRESS_DONE = "progress_done"
ATTR_PROGRESS_TOTAL = "progress_total"
ATTR_RESUME_HINT = "resume_hint"

# Classes.
CLASSES = "classes"
CLASS_NAMES = "classes/names"
CLASS_IDS = "classes/ids"
ATTR_COUNT = "count"

# Hierarchy: a tree over the classes, nodes in depth-first order.
HIERARCHY = "hierarchy"
NODE_NAMES = "hierarchy/names"
NODE_PARENT = "hierarchy/parent"
NODE_CLASS = "hierarchy/class_index"
ATTR_SOURCE = "source"
HIERARCHY_SOURCES = ("demo", "wordnet", "cifar100", "file", "seriation")

# Samples.
SAMPLES = "samples"
SAMPLE_LABEL = "samples/label"
SAMPLE_SOURCE = "samples/source"
SAMPLE_THUMBNAIL = "samples/thumbnail"
MIN_THUMBNAIL_SIDE = 48

# Inputs that were skipped (unreadable, not an image), with the reason.
SKIPPED = "skipped"
SKIPPED_SOURCE = "skipped/source"
SKIPPED_REASON = "skipped/reason"

# Result sets: results/<name>/{topk_index, topk_prob, true_prob}.
RESULTS = "results"
TOPK_INDEX = "topk_index"
TOPK_PROB = "topk_prob"
TRUE_PROB = "true_prob"
MIN_TOP_K = 5

# Linear probes (`blocks-tui probe`): result sets named probe:<layer>, and the
# fold (0 or 1) of every sample; the probe trained on one fold predicted the other.
# Optional, so older caches open unchanged.
PROBE_RESULT_PREFIX = "probe:"
PROBES = "probes"
PROBE_SPLIT = "probes/split"
ATTR_SPLIT_METHOD = "method"

# Layer responses: layers/<name>/{class_mean, collective, maps}.
LAYERS = "layers"
CLASS_MEAN = "class_mean"
COLLECTIVE = "collective"
MAPS = "maps"
ATTR_LAYER_NAME = "layer"
ATTR_OUTPUT_SHAPE = "output_shape"
ATTR_CELLS = "d"

# What a synthetic data set planted; only tests and benchmarks read it.
GROUND_TRUTH = "demo/ground_truth"
ATTR_JSON = "json"

# Storage: responses uncompressed in chunks of at most 1 MiB (fast random
# reads); only thumbnails are gzip-compressed, where it pays off.
MAX_CHUNK_BYTES = 1 << 20
THUMBNAIL_GZIP_LEVEL = 1  # level 4 saves <1% on thumbnails at 30% more CPU
READ_CHUNK_CACHE_BYTES = 64 << 20

# What the reader checks on open, from metadata alone: each dataset's kind of
# values and rank.  Kinds: text (HDF5 strings), integer, real (floating point)
# and uint8 (exactly one byte per value: the thumbnails).
TEXT, INTEGER, REAL, UINT8 = "text", "integer", "real", "uint8"
DATASET_LAYOUT = {
    CLASS_NAMES: (TEXT, 1),
    CLASS_IDS: (TEXT, 1),
    NODE_NAMES: (TEXT, 1),
    NODE_PARENT: (INTEGER, 1),
    NODE_CLASS: (INTEGER, 1),
    SAMPLE_LABEL: (INTEGER, 1),
    SAMPLE_SOURCE: (TEXT, 1),
    SAMPLE_THUMBNAIL: (UINT8, 4),  # (samples, H, W, 3)
    SKIPPED_SOURCE: (TEXT, 1),
    SKIPPED_REASON: (TEXT, 1),
    PROBE_SPLIT: (INTEGER, 1),
}
RESULT_LAYOUT = {TOPK_INDEX: (INTEGER, 2), TOPK_PROB: (REAL, 2), TRUE_PROB: (REAL, 1)}
LAYER_LAYOUT = {CLASS_MEAN: (REAL, 4), COLLECTIVE: (REAL, 2), MAPS: (REAL, 4)}

# Bounds on what a damaged file can make the reader do.  A text attribute
# (producer, layer name, transform ...) is cut to MAX_ATTR_CHARS when read; a
# config longer than MAX_CONFIG_CHARS is refused rather than parsed.  A
# gzip-compressed dataset cannot hold more than MAX_GZIP_RATIO times its
# stored bytes (deflate's limit is 1032:1), so a larger declared size is damage.
MAX_ATTR_CHARS = 1024
MAX_CONFIG_CHARS = 64 << 10
MAX_GZIP_RATIO = 1100
