"""The cache writer: the only code that creates cache files.

It writes to ``NAME.h5.partial`` with ``complete = False`` and only on a clean
exit sets ``complete = True``, fsyncs and renames to ``NAME.h5``.  Before each
write it checks that the disk has room (see :func:`ensure_room`), because
HDF5 cannot fail a write cleanly.  So a crash
or Ctrl-C never leaves a file with the final name, and a file with the final
name is always complete.  Use it from one thread: h5py serialises every call
anyway, and one writer thread is the pattern the extractor follows.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
from dataclasses import dataclass, field
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


DIRTY_BYTES_PER_DATASET = 1 << 20
"""HDF5's default chunk cache: up to this many written bytes per dataset may reach the disk only later."""


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged process may still write under ``folder``, if the system says."""
    try:
        st = os.statvfs(folder if str(folder) else Path("."))
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def ensure_room(path: Path, needed: int) -> None:
    """Raise ``OSError(ENOSPC)`` now when fewer than ``needed`` bytes are free next to ``path``.

    HDF5 cannot fail a write cleanly: a full disk surfaces late (on a flush,
    or in a destructor as an unraisable error), leaves the file open, and
    crashed the interpreter at exit.  So writes ask first, with room to
    spare, and a full disk is an ordinary ``OSError`` before HDF5 writes anything.
    """
    free = free_bytes(path.parent)
    if free is not None and free < needed:
        raise OSError(errno.ENOSPC, f"No space left on device (about {needed / 2**20:.1f} MiB needed, "
                      f"{free / 2**20:.1f} MiB free)", str(path))


def partial_path(path: Path) -> Path:
    """Where the writer keeps an unfinished cache for ``path``."""
    return path.with_name(path.name + s.PARTIAL_SUFFIX)


def silence_hdf5_diagnostics() -> None:
    """Call first in a thread that writes caches: h5py silences HDF5's C-level error stacks in the
    main thread only, and a writer thread would print them to stderr beside the one-line error."""
    try:
        from h5py import _errors

        _errors.silence_errors()
    except (ImportError, AttributeError):  # a future h5py without it: the errors still raise
        pass


class _ThumbnailSink:
    """Sequential thumbnail rows → gzip chunks compressed by a thread pool, written directly.

    h5py's gzip filter compresses one chunk at a time under its lock, which
    made thumbnails the slowest part of merging an extraction.  zlib releases
    the GIL, so whole chunks are compressed in parallel here and written with
    ``write_direct_chunk``: the same bytes HDF5's deflate filter would store.
    """

    def __init__(self, dataset: h5py.Dataset) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.dataset = dataset
        self.rows = int(dataset.chunks[0])
        self.row_shape = tuple(dataset.shape[1:])
        self.total = int(dataset.shape[0])
        self.workers = max(1, os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        self.pending: list[tuple[int, Any]] = []
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self.written = 0
        self.next_chunk = 0

    def append(self, thumbnails: np.ndarray) -> None:
        if thumbnails.dtype != np.uint8 or tuple(thumbnails.shape[1:]) != self.row_shape:
            raise ValueError(f"thumbnails must be (n, {', '.join(map(str, self.row_shape))}) uint8, "
                             f"got {thumbnails.shape} {thumbnails.dtype}")
        if self.written + self.buffered + len(thumbnails) > self.total:
            raise ValueError(f"more than {self.total} thumbnails")
        self.buffer.append(thumbnails)
        self.buffered += len(thumbnails)
        while self.buffered >= self.rows:
            self._submit(self._take(self.rows))

    def _take(self, rows: int) -> np.ndarray:
        joined = np.concatenate(self.buffer) if len(self.buffer) > 1 else self.buffer[0]
        head, rest = joined[:rows], joined[rows:]
        self.buffer = [rest] if len(rest) else []
        self.buffered = len(rest)
        return head

    def _submit(self, rows: np.ndarray) -> None:
        import zlib

        chunk = np.zeros((self.rows,) + self.row_shape, dtype=np.uint8)  # an edge chunk is padded
        chunk[: len(rows)] = rows
        self.pending.append((len(rows), self.pool.submit(zlib.compress, chunk.tobytes(), s.THUMBNAIL_GZIP_LEVEL)))
        if len(self.pending) > 4 * self.workers:  # bounded memory: write the oldest
            self._drain(keep=2 * self.workers)

    def _drain(self, keep: int = 0) -> None:
        while len(self.pending) > keep:
            count, future = self.pending.pop(0)
            offset = (self.next_chunk * self.rows,) + (0,) * len(self.row_shape)
            self.dataset.id.write_direct_chunk(offset, future.result())
            self.next_chunk += 1
            self.written += count

    def close(self) -> int:
        """Write what is left; returns how many rows were written."""
        if self.buffered:
            self._submit(self._take(self.buffered))
        self._drain()
        self.pool.shutdown()
        return self.written

    def abandon(self) -> None:
        self.pool.shutdown(cancel_futures=True)


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
        self._slack = 2 * DIRTY_BYTES_PER_DATASET  # metadata; grows by the chunk cache of every dataset made
        self._room(0)
        self._file = h5py.File(self.partial, "w")
        self._n_classes: int | None = None
        self._n_samples: int | None = None
        self._thumbnails: _ThumbnailSink | None = None
        self._thumbnails_written = 0  # rows flushed by a sink that truncate_samples closed
        self._datasets: dict[str, h5py.Dataset] = {}
        self._rows = 0  # samples appended so far
        self._resizable = False
        attrs = self._file.attrs
        attrs[s.ATTR_FORMAT] = s.FORMAT_NAME
        attrs[s.ATTR_VERSION] = s.FORMAT_VERSION
        attrs[s.ATTR_PRODUCER] = f"blocks-tui {__version__}"
        attrs[s.ATTR_CREATED] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        attrs[s.ATTR_COMPLETE] = False
        attrs[s.ATTR_CONFIG] = json.dumps(dict(config), sort_keys=True)
        attrs[s.ATTR_RESUME_HINT] = resume_hint
        # Creation order is meaningful (layers run early to late), so keep it.
        self._file.create_group(s.RESULTS, track_order=True)
        self._file.create_group(s.LAYERS, track_order=True)

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
            # Unless the disk is full: then its space is worth more, and
            # freeing it is what lets HDF5 close the file without crashing.
            self.abandon(delete=isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT))

    def _room(self, nbytes: int) -> None:
        """Refuse a write of ``nbytes`` (plus what HDF5 may still hold back) that the disk has no room for."""
        ensure_room(self.partial, nbytes + self._slack)

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
        self._room(sum(len(n) + 16 for n in names) * 2)
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
        self._room(sum(len(n) + 24 for n in names))
        group = self._file.require_group(s.HIERARCHY)
        group.attrs[s.ATTR_SOURCE] = source
        group.create_dataset("names", data=list(names), dtype=_STR)
        group.create_dataset("parent", data=parent)
        group.create_dataset("class_index", data=class_index)

    def write_samples(self, labels: np.ndarray, sources: Sequence[str], thumbnails: np.ndarray) -> None:
        """Store true labels, source paths or ids, and (N, H, W, 3) uint8 thumbnails."""
        thumbnails = np.asarray(thumbnails)
        self.begin_samples(len(labels), thumbnails.shape[1:])
        self.append_samples(labels, sources, thumbnails)

    def begin_samples(self, capacity: int, thumbnail_shape: Sequence[int], resizable: bool = False) -> None:
        """Make room for ``capacity`` samples, appended later in order with :meth:`append_samples`.

        ``resizable`` lets a producer that learns the final count only at the
        end (an extraction skipping unreadable files as it goes) size for the
        worst case and :meth:`truncate_samples` before finishing.
        """
        if self._n_classes is None:
            raise ValueError("write_classes must come before write_samples")
        shape = tuple(int(v) for v in thumbnail_shape)
        if len(shape) != 3 or shape[2] != 3:
            raise ValueError(f"thumbnails must be (N, H, W, 3) uint8, got (N, {shape})")
        if max(shape[:2]) < s.MIN_THUMBNAIL_SIDE:
            raise ValueError(f"thumbnails must be at least {s.MIN_THUMBNAIL_SIDE} px on the long side")
        self._n_samples = int(capacity)
        self._resizable = resizable
        group = self._file.require_group(s.SAMPLES)
        self._per_sample(group, "label", (), np.int32)
        self._per_sample(group, "source", (), _STR)
        self._per_sample(group, "thumbnail", shape, np.uint8, row_limit=256 << 10,
                         compression="gzip", compression_opts=s.THUMBNAIL_GZIP_LEVEL)  # (shuffle: no-op on uint8)

    def _per_sample(self, group: h5py.Group, name: str, row_shape: tuple[int, ...], dtype: Any,
                    row_limit: int = s.MAX_CHUNK_BYTES, **options: Any) -> h5py.Dataset:
        """A dataset with one row per sample, chunked to at most ``row_limit`` bytes."""
        n = self._require_samples()
        row_bytes = int(np.prod(row_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        chunks = (_rows_per_chunk(row_bytes, max(n, 1), row_limit),) + row_shape
        resizable = {"maxshape": (None,) + row_shape} if self._resizable else {}
        self._slack += min(DIRTY_BYTES_PER_DATASET, n * row_bytes)
        return group.create_dataset(name, shape=(n,) + row_shape, dtype=dtype, chunks=chunks, **resizable, **options)

    def append_samples(self, labels: np.ndarray, sources: Sequence[str], thumbnails: np.ndarray) -> None:
        """Add the next samples' labels, sources and thumbnails, in sample order."""
        n = self._require_samples()
        labels = np.asarray(labels, dtype=np.int32)
        rows = len(labels)
        if len(sources) != rows or len(thumbnails) != rows:
            raise ValueError(f"labels ({rows}), sources ({len(sources)}) and thumbnails ({len(thumbnails)}) "
                             "differ in length")
        if self._rows + rows > n:
            raise ValueError(f"more than the {n} samples begun")
        if rows and (labels.min() < 0 or labels.max() >= (self._n_classes or 0)):
            raise ValueError(f"labels must lie in [0, {self._n_classes})")
        self._room(labels.nbytes + np.asarray(thumbnails).nbytes + sum(len(v) + 16 for v in sources))
        start = self._rows
        self._dataset(s.SAMPLE_LABEL)[start : start + rows] = labels
        self._dataset(s.SAMPLE_SOURCE)[start : start + rows] = list(sources)
        if self._thumbnails is None:
            self._thumbnails = _ThumbnailSink(self._file[s.SAMPLE_THUMBNAIL])
        self._thumbnails.append(np.asarray(thumbnails))
        self._rows += rows

    def truncate_samples(self, count: int) -> None:
        """Shrink every per-sample dataset to ``count`` rows (``begin_samples(resizable=True)`` only)."""
        if not self._resizable:
            raise ValueError("truncate_samples needs begin_samples(..., resizable=True)")
        if count > self._require_samples():
            raise ValueError(f"cannot grow from {self._n_samples} to {count} samples")
        if self._thumbnails is not None:
            self._thumbnails.close()  # flush the last chunk before shrinking under it
            self._thumbnails_written = self._thumbnails.written
            self._thumbnails = None

        def shrink(name: str, obj: h5py.HLObject) -> None:
            if isinstance(obj, h5py.Dataset) and obj.maxshape and obj.maxshape[0] is None:
                obj.resize(count, axis=0)

        self._file.visititems(shrink)
        self._n_samples = count

    def write_skipped(self, sources: Sequence[str], reasons: Sequence[str]) -> None:
        """Record the inputs that were skipped (unreadable, not an image) and why."""
        if len(sources) != len(reasons):
            raise ValueError(f"sources ({len(sources)}) and reasons ({len(reasons)}) differ in length")
        self._room(sum(len(v) + len(r) + 32 for v, r in zip(sources, reasons)))
        group = self._file.require_group(s.SKIPPED)
        group.create_dataset("source", data=list(sources), dtype=_STR)
        group.create_dataset("reason", data=list(reasons), dtype=_STR)

    def write_result_set(
        self,
        name: str,
        topk_index: np.ndarray,
        topk_prob: np.ndarray,
        true_prob: np.ndarray,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> None:
        """Store one result set: top-k classes and probabilities per sample."""
        topk_index = np.asarray(topk_index)
        if topk_index.ndim != 2:
            raise ValueError(f"topk_index must be (N, k), got {topk_index.shape}")
        self.begin_result_set(name, topk_index.shape[1], attrs)
        self.write_result_rows(name, 0, topk_index, topk_prob, true_prob, whole=True)

    def begin_result_set(self, name: str, k: int, attrs: Mapping[str, AttrValue] | None = None) -> None:
        """Make room for a result set of top-``k`` predictions, written later in rows."""
        if "/" in name or not name:
            raise ValueError(f"result set name must be non-empty and without '/', got {name!r}")
        if k < s.MIN_TOP_K:
            raise ValueError(f"result sets need k >= {s.MIN_TOP_K}, got {k}")
        group = self._file[s.RESULTS].create_group(name)
        for key, value in (attrs or {}).items():
            group.attrs[key] = value
        self._per_sample(group, s.TOPK_INDEX, (k,), np.int32)
        self._per_sample(group, s.TOPK_PROB, (k,), np.float32)
        self._per_sample(group, s.TRUE_PROB, (), np.float32)

    def write_result_rows(
        self, name: str, start: int, topk_index: np.ndarray, topk_prob: np.ndarray, true_prob: np.ndarray,
        whole: bool = False,
    ) -> None:
        """Fill rows ``start ..`` of result set ``name`` (``whole``: all of them, checked)."""
        base = f"{s.RESULTS}/{name}"
        n, k = self._dataset(f"{base}/{s.TOPK_INDEX}").shape
        topk_index = np.asarray(topk_index, dtype=np.int32)
        topk_prob = np.asarray(topk_prob, dtype=np.float32)
        true_prob = np.asarray(true_prob, dtype=np.float32)
        rows = len(topk_index)
        if topk_index.shape != topk_prob.shape or topk_index.shape[1:] != (k,):
            raise ValueError(f"topk_index {topk_index.shape} and topk_prob {topk_prob.shape} must be equal (rows, {k})")
        if true_prob.shape != (rows,) or start + rows > n or (whole and rows != n):
            raise ValueError(f"result set {name!r} must have {n} rows")
        self._room(topk_index.nbytes * 2 + true_prob.nbytes)
        self._dataset(f"{base}/{s.TOPK_INDEX}")[start : start + rows] = topk_index
        self._dataset(f"{base}/{s.TOPK_PROB}")[start : start + rows] = topk_prob
        self._dataset(f"{base}/{s.TRUE_PROB}")[start : start + rows] = true_prob

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
        class_mean = np.asarray(class_mean, dtype=np.float32)
        if class_mean.ndim != 4 or class_mean.shape[2] != class_mean.shape[3]:
            raise ValueError(f"class_mean must be (classes, channels, d, d), got {class_mean.shape}")
        _, channels, d, _ = class_mean.shape
        n = self._require_samples()
        collective = np.asarray(collective)
        if collective.shape != (n, channels):
            raise ValueError(f"collective must be ({n}, {channels}), got {collective.shape}")
        self.begin_layer(name, channels, d, output_shape, with_maps=maps is not None)
        self.write_class_mean(name, class_mean)
        self.write_layer_rows(name, 0, collective, maps)

    def begin_layer(self, name: str, channels: int, d: int, output_shape: Sequence[int], with_maps: bool = False) -> None:
        """Make room for one layer's responses, written later in rows."""
        if "/" in name or not name:
            raise ValueError(f"layer name must be non-empty and without '/', got {name!r}")
        assert self._n_classes is not None
        group = self._file[s.LAYERS].create_group(name)
        group.attrs[s.ATTR_LAYER_NAME] = name
        group.attrs[s.ATTR_OUTPUT_SHAPE] = np.asarray(output_shape, dtype=np.int64)
        group.attrs[s.ATTR_CELLS] = d
        cells = channels * d * d
        self._slack += min(DIRTY_BYTES_PER_DATASET, self._n_classes * cells * 4)
        group.create_dataset(
            s.CLASS_MEAN, shape=(self._n_classes, channels, d, d), dtype=np.float32,
            chunks=(_rows_per_chunk(cells * 4, self._n_classes), channels, d, d),
        )
        self._per_sample(group, s.COLLECTIVE, (channels,), np.float16)
        if with_maps:
            self._per_sample(group, s.MAPS, (channels, d, d), np.float16)

    def write_class_mean(self, name: str, class_mean: np.ndarray) -> None:
        """Store the (classes, channels, d, d) per-class mean responses of a layer."""
        dataset = self._file[s.LAYERS][name][s.CLASS_MEAN]
        class_mean = np.asarray(class_mean, dtype=np.float32)
        if class_mean.shape != dataset.shape:
            raise ValueError(f"class_mean must be {dataset.shape}, got {class_mean.shape}")
        self._room(class_mean.nbytes)
        dataset[...] = class_mean

    def write_layer_rows(self, name: str, start: int, collective: np.ndarray, maps: np.ndarray | None = None) -> None:
        """Fill per-sample rows ``start ..`` of a layer (collective responses and maps)."""
        base = f"{s.LAYERS}/{name}"
        target = self._dataset(f"{base}/{s.COLLECTIVE}")
        collective = np.asarray(collective, dtype=np.float16)
        rows = len(collective)
        if collective.shape[1:] != target.shape[1:] or start + rows > target.shape[0]:
            raise ValueError(f"collective rows {collective.shape} do not fit {target.shape} at {start}")
        self._room(collective.nbytes + (np.asarray(maps).size * 2 if maps is not None else 0))  # float16
        target[start : start + rows] = collective
        has_maps = f"{base}/{s.MAPS}" in self._file
        if (maps is None) == has_maps:
            raise ValueError(f"layer {name!r} was begun {'with' if has_maps else 'without'} maps")
        if maps is not None:
            target = self._dataset(f"{base}/{s.MAPS}")
            maps = np.asarray(maps, dtype=np.float16)
            if maps.shape != (rows,) + target.shape[1:]:
                raise ValueError(f"maps must be {(rows,) + target.shape[1:]}, got {maps.shape}")
            target[start : start + rows] = maps

    def _dataset(self, path: str) -> h5py.Dataset:
        """A dataset by path, looked up once: merging writes thousands of row blocks."""
        if path not in self._datasets:
            self._datasets[path] = self._file[path]
        return self._datasets[path]

    def write_ground_truth(self, ground_truth: Mapping[str, Any]) -> None:
        """Record what a synthetic data set planted (read only by tests and benchmarks)."""
        text = json.dumps(dict(ground_truth), sort_keys=True)
        self._room(len(text))
        group = self._file.require_group(s.GROUND_TRUTH)
        group.create_dataset(s.ATTR_JSON, data=text, dtype=_STR)

    # -- finishing -----------------------------------------------------------
    def abandon(self, delete: bool = False) -> None:
        """Stop without finishing: the ``.partial`` file stays, marked incomplete, or with ``delete`` goes.

        Never raises: it runs after a failure, often a full disk, when closing
        can fail too (HDF5 flushes on close), and the first error is the one to report.
        """
        if delete:  # give the space back first: then HDF5 can flush what it holds as handles go, and close
            try:
                os.ftruncate(self._file.id.get_vfd_handle(), 0)
            except Exception:  # noqa: BLE001 - closed already, or a driver without a descriptor
                pass
        if self._thumbnails is not None:
            self._thumbnails.abandon()
            self._thumbnails = None
        self._datasets.clear()  # drop the handles before the file, so none is freed against a closed file
        try:
            self._file.close()
        except Exception:  # noqa: BLE001 - see above
            pass
        if delete:
            self.partial.unlink(missing_ok=True)

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
        self._room(0)  # what the chunk caches still hold reaches the disk now
        written = self._thumbnails.close() if self._thumbnails else self._thumbnails_written
        if min(written, self._rows) != self._n_samples:
            self._file.close()
            raise ValueError(f"{self._rows} samples were written of {self._n_samples}; not finishing it")
        self._file.attrs[s.ATTR_COMPLETE] = True
        self._file.attrs[s.ATTR_PROGRESS_DONE] = self._n_samples or 0
        self._file.attrs[s.ATTR_PROGRESS_TOTAL] = self._n_samples or 0
        self._file.flush()
        self._file.close()
        commit_file(self.partial, self.path)
        return self.path


@dataclass(frozen=True)
class NewResultSet:
    """One result set to add to a finished cache: (samples, k) top-k columns and (samples,) label probability."""

    name: str
    topk_index: np.ndarray
    topk_prob: np.ndarray
    true_prob: np.ndarray
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)


def append_result_set(
    path: Path,
    name: str,
    topk_index: np.ndarray,
    topk_prob: np.ndarray,
    true_prob: np.ndarray,
    attrs: Mapping[str, AttrValue] | None = None,
    replace: bool = False,
) -> None:
    """Add a result set to a finished cache, atomically (copy, add, fsync, rename).

    This is how ``extract --checkpoint ... --result-name epoch-3`` grows one
    cache across checkpoints.  The original stays untouched until the rename.
    """
    append_result_sets(path, [NewResultSet(name, topk_index, topk_prob, true_prob, dict(attrs or {}))], replace)


def append_result_sets(
    path: Path,
    result_sets: Sequence[NewResultSet],
    replace: bool = False,
    probe_split: np.ndarray | None = None,
    split_method: str = "",
    remove: Sequence[str] = (),
) -> None:
    """Add several result sets (and optionally the probe split) in one atomic copy, add, fsync, rename.

    ``replace`` lets a set overwrite one of the same name; ``remove`` names
    result sets to delete (stale probes of an earlier split).  One copy for
    all of them, because a cache with per-sample maps can be gigabytes.
    """
    import shutil

    path = Path(path)
    partial = partial_path(path)
    added = sum(np.asarray(a).size * 4 for new in result_sets for a in (new.topk_index, new.topk_prob, new.true_prob))
    try:
        ensure_room(partial, path.stat().st_size + added + 8 * DIRTY_BYTES_PER_DATASET)
        shutil.copyfile(path, partial)
        with h5py.File(partial, "a") as f:
            results = f[s.RESULTS]
            n = f[s.SAMPLE_LABEL].shape[0]
            for name in remove:
                if name in results:
                    del results[name]
            for new in result_sets:
                _add_result_group(results, new, n, replace)
            if probe_split is not None:
                _write_probe_split(f, probe_split, split_method, n)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    commit_file(partial, path)


def _add_result_group(results: h5py.Group, new: NewResultSet, n: int, replace: bool) -> None:
    name = new.name
    if "/" in name or not name:
        raise ValueError(f"result set name must be non-empty and without '/', got {name!r}")
    if name in results:
        if not replace:
            raise ValueError(f"result set {name!r} exists already")
        del results[name]
    topk_index = np.asarray(new.topk_index, dtype=np.int32)
    if topk_index.ndim != 2 or topk_index.shape[0] != n or topk_index.shape[1] < s.MIN_TOP_K:
        raise ValueError(f"result set {name!r} must be ({n}, k >= {s.MIN_TOP_K}), got {topk_index.shape}")
    group = results.create_group(name)
    for key, value in new.attrs.items():
        group.attrs[key] = value
    group.create_dataset(s.TOPK_INDEX, data=topk_index)
    group.create_dataset(s.TOPK_PROB, data=np.asarray(new.topk_prob, dtype=np.float32).reshape(topk_index.shape))
    group.create_dataset(s.TRUE_PROB, data=np.asarray(new.true_prob, dtype=np.float32).reshape(n))


def _write_probe_split(f: h5py.File, split: np.ndarray, method: str, n: int) -> None:
    """Store (or replace) ``probes/split``: the (samples,) int8 fold, 0 or 1, of every sample."""
    split = np.asarray(split)
    if split.shape != (n,) or (split.size and not np.isin(split, (0, 1)).all()):
        raise ValueError(f"the probe split must be ({n},) holding 0 and 1, got {split.shape}")
    if s.PROBE_SPLIT in f:
        del f[s.PROBE_SPLIT]
    f.create_dataset(s.PROBE_SPLIT, data=split.astype(np.int8))
    f[s.PROBES].attrs[s.ATTR_SPLIT_METHOD] = method
