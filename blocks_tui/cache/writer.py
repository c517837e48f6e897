"""The cache writer: the only code that creates cache files.

It writes to ``NAME.h5.partial`` with ``complete = False`` and only on a clean
exit sets ``complete = True``, fsyncs and renames to ``NAME.h5``.  So a crash
or Ctrl-C never leaves a file with the final name, and a file with the final
name is always complete.  Use it from one thread: h5py serialises every call
anyway, and one writer thread is the pattern the extractor follows.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Sequence

import h5py
import numpy as np

from .. import __version__
from ..atomic import commit_file
from . import schema as s
from .tree_arrays import tree_arrays_problem

_STR = h5py.string_dtype("utf-8")
AttrValue = str | int | float | bool


def _rows_per_chunk(row_bytes: int, n_rows: int, limit: int = s.MAX_CHUNK_BYTES) -> int:
    """Rows per chunk so that one chunk stays within ``limit`` bytes."""
    return max(1, min(n_rows, limit // max(1, row_bytes)))


def partial_path(path: Path) -> Path:
    """Where the writer keeps an unfinished cache for ``path``."""
    return path.with_name(path.name + s.PARTIAL_SUFFIX)


class CacheWriter:
    """Write one cache, atomically.  Use as a context manager.

    ``config`` is the run configuration (model, weights or checkpoint, data
    set, transforms, layers, seed), stored as JSON.  ``resume_hint`` is the
    command that would finish or redo an interrupted run; the reader quotes
    it when someone opens the unfinished file.
    """

    def __init__(self, path: Path | str, config: Mapping[str, Any], resume_hint: str = "") -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = h5py.File(self.partial, "w")
        self._n_classes: int | None = None
        self._n_samples: int | None = None
        attrs = self._file.attrs
        attrs[s.ATTR_FORMAT] = s.FORMAT_NAME
        attrs[s.ATTR_VERSION] = s.FORMAT_VERSION
        attrs[s.ATTR_PRODUCER] = f"blocks-tui {__version__}"
        attrs[s.ATTR_CREATED] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        attrs[s.ATTR_COMPLETE] = False
        attrs[s.ATTR_CONFIG] = json.dumps(dict(config), sort_keys=True)
        attrs[s.ATTR_RESUME_HINT] = resume_hint
        self._file.create_group(s.RESULTS)
        self._file.create_group(s.LAYERS)

    # -- context manager -------------------------------------------------
    def __enter__(self) -> "CacheWriter":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        else:
            # Keep the .partial file: it is not the final name, it says
            # complete=False, and a resumable producer may continue it.
            self._file.close()

    # -- progress ----------------------------------------------------------
    def set_progress(self, done: int, total: int) -> None:
        """Record how far the run got, and flush, so an interrupted file says so."""
        self._file.attrs[s.ATTR_PROGRESS_DONE] = int(done)
        self._file.attrs[s.ATTR_PROGRESS_TOTAL] = int(total)
        self._file.flush()

    # -- sections ----------------------------------------------------------
    def write_classes(self, names: Sequence[str], ids: Sequence[str] | None = None) -> None:
        """Store the class names (and optional external ids such as wnids)."""
        if ids is not None and len(ids) != len(names):
            raise ValueError(f"ids has {len(ids)} entries but names has {len(names)}")
        group = self._file.require_group(s.CLASSES)
        group.attrs[s.ATTR_COUNT] = len(names)
        group.create_dataset("names", data=list(names), dtype=_STR)
        if ids is not None:
            group.create_dataset("ids", data=list(ids), dtype=_STR)
        self._n_classes = len(names)

    def write_hierarchy(
        self,
        names: Sequence[str],
        parent: np.ndarray,
        class_index: np.ndarray,
        source: str,
    ) -> None:
        """Store the class tree; nodes must be in depth-first pre-order."""
        if self._n_classes is None:
            raise ValueError("write_classes must come before write_hierarchy")
        if source not in s.HIERARCHY_SOURCES:
            raise ValueError(f"source must be one of {s.HIERARCHY_SOURCES}, got {source!r}")
        parent = np.asarray(parent, dtype=np.int32)
        class_index = np.asarray(class_index, dtype=np.int32)
        if len(names) != len(parent):
            raise ValueError(f"names has {len(names)} entries but parent has {len(parent)}")
        problem = tree_arrays_problem(parent, class_index, self._n_classes)
        if problem:
            raise ValueError(problem)
        group = self._file.require_group(s.HIERARCHY)
        group.attrs[s.ATTR_SOURCE] = source
        group.create_dataset("names", data=list(names), dtype=_STR)
        group.create_dataset("parent", data=parent)
        group.create_dataset("class_index", data=class_index)

    def write_samples(self, labels: np.ndarray, sources: Sequence[str], thumbnails: np.ndarray) -> None:
        """Store true labels, source paths or ids, and (N, H, W, 3) uint8 thumbnails."""
        if self._n_classes is None:
            raise ValueError("write_classes must come before write_samples")
        labels = np.asarray(labels, dtype=np.int32)
        thumbnails = np.asarray(thumbnails)
        n = len(labels)
        if len(sources) != n or len(thumbnails) != n:
            raise ValueError(f"labels ({n}), sources ({len(sources)}) and thumbnails ({len(thumbnails)}) differ in length")
        if thumbnails.dtype != np.uint8 or thumbnails.ndim != 4 or thumbnails.shape[3] != 3:
            raise ValueError(f"thumbnails must be (N, H, W, 3) uint8, got {thumbnails.shape} {thumbnails.dtype}")
        if max(thumbnails.shape[1:3]) < s.MIN_THUMBNAIL_SIDE:
            raise ValueError(f"thumbnails must be at least {s.MIN_THUMBNAIL_SIDE} px on the long side")
        if n and (labels.min() < 0 or labels.max() >= self._n_classes):
            raise ValueError(f"labels must lie in [0, {self._n_classes})")
        group = self._file.require_group(s.SAMPLES)
        group.create_dataset("label", data=labels)
        group.create_dataset("source", data=list(sources), dtype=_STR)
        row_bytes = int(np.prod(thumbnails.shape[1:]))
        group.create_dataset(
            "thumbnail",
            data=thumbnails,
            chunks=(_rows_per_chunk(row_bytes, max(n, 1), 256 << 10),) + thumbnails.shape[1:],
            compression="gzip",
            compression_opts=s.THUMBNAIL_GZIP_LEVEL,
            shuffle=True,
        )
        self._n_samples = n

    def write_result_set(
        self,
        name: str,
        topk_index: np.ndarray,
        topk_prob: np.ndarray,
        true_prob: np.ndarray,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> None:
        """Store one result set: top-k classes and probabilities per sample."""
        n = self._require_samples()
        topk_index = np.asarray(topk_index, dtype=np.int32)
        topk_prob = np.asarray(topk_prob, dtype=np.float32)
        true_prob = np.asarray(true_prob, dtype=np.float32)
        if "/" in name or not name:
            raise ValueError(f"result set name must be non-empty and without '/', got {name!r}")
        if topk_index.shape != topk_prob.shape or topk_index.ndim != 2:
            raise ValueError(f"topk_index {topk_index.shape} and topk_prob {topk_prob.shape} must be equal (N, k)")
        if topk_index.shape[0] != n or true_prob.shape != (n,):
            raise ValueError(f"result set {name!r} must have {n} rows")
        if topk_index.shape[1] < s.MIN_TOP_K:
            raise ValueError(f"result sets need k >= {s.MIN_TOP_K}, got {topk_index.shape[1]}")
        group = self._file[s.RESULTS].create_group(name)
        for key, value in (attrs or {}).items():
            group.attrs[key] = value
        group.create_dataset(s.TOPK_INDEX, data=topk_index)
        group.create_dataset(s.TOPK_PROB, data=topk_prob)
        group.create_dataset(s.TRUE_PROB, data=true_prob)

    def write_layer(
        self,
        name: str,
        class_mean: np.ndarray,
        collective: np.ndarray,
        output_shape: Sequence[int],
        maps: np.ndarray | None = None,
    ) -> None:
        """Store one layer's downsampled responses.

        ``class_mean`` is (classes, channels, d, d) float32, ``collective`` is
        (samples, channels): each channel's d×d cells summed, the paper's
        f_N(x).  ``maps`` are the optional per-sample (samples, channels, d, d).
        """
        n = self._require_samples()
        class_mean = np.asarray(class_mean, dtype=np.float32)
        collective = np.asarray(collective, dtype=np.float16)
        if class_mean.ndim != 4 or class_mean.shape[2] != class_mean.shape[3]:
            raise ValueError(f"class_mean must be (classes, channels, d, d), got {class_mean.shape}")
        n_classes, channels, d, _ = class_mean.shape
        if n_classes != self._n_classes:
            raise ValueError(f"class_mean has {n_classes} classes, the cache has {self._n_classes}")
        if collective.shape != (n, channels):
            raise ValueError(f"collective must be ({n}, {channels}), got {collective.shape}")
        if "/" in name or not name:
            raise ValueError(f"layer name must be non-empty and without '/', got {name!r}")
        group = self._file[s.LAYERS].create_group(name)
        group.attrs[s.ATTR_LAYER_NAME] = name
        group.attrs[s.ATTR_OUTPUT_SHAPE] = np.asarray(output_shape, dtype=np.int64)
        group.attrs[s.ATTR_CELLS] = d
        group.create_dataset(
            s.CLASS_MEAN, data=class_mean,
            chunks=(_rows_per_chunk(class_mean[0].nbytes, n_classes),) + class_mean.shape[1:],
        )
        group.create_dataset(
            s.COLLECTIVE, data=collective,
            chunks=(_rows_per_chunk(collective.itemsize * channels, max(n, 1)), channels),
        )
        if maps is not None:
            maps = np.asarray(maps, dtype=np.float16)
            if maps.shape != (n, channels, d, d):
                raise ValueError(f"maps must be ({n}, {channels}, {d}, {d}), got {maps.shape}")
            group.create_dataset(
                s.MAPS, data=maps,
                chunks=(_rows_per_chunk(maps[0].nbytes, max(n, 1)),) + maps.shape[1:],
            )

    def write_ground_truth(self, ground_truth: Mapping[str, Any]) -> None:
        """Record what a synthetic data set planted (read only by tests and benchmarks)."""
        group = self._file.require_group(s.GROUND_TRUTH)
        group.create_dataset(s.ATTR_JSON, data=json.dumps(dict(ground_truth), sort_keys=True), dtype=_STR)

    # -- finishing -----------------------------------------------------------
    def _require_samples(self) -> int:
        if self._n_samples is None:
            raise ValueError("write_samples must come before result sets and layers")
        return self._n_samples

    def finish(self) -> Path:
        """Mark the cache complete and move it to its final name atomically."""
        missing = [p for p in (s.CLASS_NAMES, s.NODE_NAMES, s.SAMPLE_LABEL) if p not in self._file]
        if missing:
            self._file.close()
            raise ValueError(f"cache is missing {', '.join(missing)}; not finishing it")
        if not len(self._file[s.RESULTS]):
            self._file.close()
            raise ValueError("cache has no result set; not finishing it")
        self._file.attrs[s.ATTR_COMPLETE] = True
        self._file.attrs[s.ATTR_PROGRESS_DONE] = self._n_samples or 0
        self._file.attrs[s.ATTR_PROGRESS_TOTAL] = self._n_samples or 0
        self._file.flush()
        self._file.close()
        commit_file(self.partial, self.path)
        return self.path
