"""``blocks-tui bench open``: opening a large cache must not read its responses.

Builds (once) an ImageNet-sized synthetic cache through the real writer and
times :func:`open_cache` plus the first lookups a viewer makes, against the
baseline of reading every dataset with plain h5py.  Reports seconds, resident
memory growth and the ratio.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .reader import open_cache
from .writer import CacheWriter


@dataclass(frozen=True)
class OpenBenchResult:
    samples: int
    classes: int
    file_bytes: int
    open_seconds: float
    open_rss_bytes: int
    read_all_seconds: float
    read_all_bytes: int

    @property
    def speedup(self) -> float:
        return self.read_all_seconds / self.open_seconds if self.open_seconds else float("inf")


def _rss_bytes() -> int:
    """Current resident set size (Linux); 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    import resource

    return pages * resource.getpagesize()


def write_synthetic_cache(path: Path, samples: int, classes: int, channels: int = 512, d: int = 3) -> Path:
    """A cache of the given size with a balanced two-level tree and one layer."""
    rng = np.random.default_rng(0)
    groups = max(1, int(round(classes ** 0.5)))
    bounds = np.linspace(0, classes, groups + 1).astype(int)
    names, parent, class_index = ["root"], [-1], [-1]
    for g in range(groups):
        group_node = len(names)
        names.append(f"group-{g}")
        parent.append(0)
        class_index.append(-1)
        for c in range(bounds[g], bounds[g + 1]):
            names.append(f"class-{c}")
            parent.append(group_node)
            class_index.append(c)
    labels = np.arange(samples) % classes
    topk = (labels[:, None] + np.arange(5)[None, :]) % classes
    # Smooth gradients compress like real thumbnails do; noise would not.
    ramp = np.linspace(0, 255, 48, dtype=np.float32)
    base = np.stack([np.add.outer(ramp, ramp) / 2] * 3, axis=-1).astype(np.uint8)
    with CacheWriter(path, config={"model": "synthetic", "dataset": f"bench-{samples}x{classes}"}) as w:
        w.write_classes([f"class-{c}" for c in range(classes)])
        w.write_hierarchy(names, np.array(parent), np.array(class_index), source="file")
        thumbs = np.broadcast_to(base, (samples, 48, 48, 3)) + (labels % 7).astype(np.uint8)[:, None, None, None]
        w.write_samples(labels, [f"bench/{i:06d}.jpg" for i in range(samples)], thumbs)
        probs = np.tile(np.array([0.6, 0.2, 0.1, 0.05, 0.05], np.float32), (samples, 1))
        w.write_result_set("original", topk, probs, probs[:, 0])
        w.write_layer(
            "layer4",
            rng.random((classes, channels, d, d), dtype=np.float32),
            rng.random((samples, channels), dtype=np.float32).astype(np.float16),
            output_shape=(1, channels, 7, 7),
        )
    return path


def bench_open(path: Path, samples: int, classes: int, repeats: int = 5) -> OpenBenchResult:
    """Time opening (validated, lazy) against reading everything with h5py."""
    if not path.exists():
        write_synthetic_cache(path, samples, classes)
    open_times = []
    rss_growth = 0
    for _ in range(repeats):
        before = _rss_bytes()
        started = time.perf_counter()
        with open_cache(path) as cache:
            cache.result(cache.result_names[0]).predicted  # what a first frame needs
            open_times.append(time.perf_counter() - started)
            rss_growth = max(rss_growth, _rss_bytes() - before)
            samples, classes = cache.n_samples, cache.n_classes
    read_times = []
    read_bytes = 0
    for _ in range(max(1, repeats // 2)):
        started = time.perf_counter()
        arrays: list[np.ndarray] = []
        with h5py.File(path, "r") as f:
            f.visititems(lambda _n, obj: arrays.append(obj[()]) if isinstance(obj, h5py.Dataset) else None)
        read_times.append(time.perf_counter() - started)
        read_bytes = sum(a.nbytes for a in arrays)
        del arrays
    return OpenBenchResult(
        samples=samples,
        classes=classes,
        file_bytes=path.stat().st_size,
        open_seconds=float(np.median(open_times)),
        open_rss_bytes=int(rss_growth),
        read_all_seconds=float(np.median(read_times)),
        read_all_bytes=int(read_bytes),
    )
