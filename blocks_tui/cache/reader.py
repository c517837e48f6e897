"""The cache reader: validates a file on open, then reads lazily.

Opening refuses anything but a regular file, walks the file's string heaps
(:mod:`.heaps`: HDF5 itself would hang on some damage), and checks the format,
the version, completeness and every dataset's kind, rank, shape and declared
size (:mod:`.validate`), reading only metadata and the small arrays (labels,
hierarchy).  Responses and thumbnails stay on disk until asked for, so opening
a 50k-sample, 1000-class cache costs milliseconds and megabytes, not gigabytes.
Every problem, on open or in a later lazy read, raises
:class:`~blocks_tui.errors.CacheError` with one line naming the dataset, so
a caller has one exception to catch.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from ..errors import CacheError
from ..safe_text import printable
from . import result_names
from . import schema as s
from .heaps import heap_problem
from .validate import READ_ERRORS, attr_text, first_line, incomplete_reason, kind_of, reading, text, validate
from .writer import partial_path

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# HDF5 looks for its superblock at 0 and at every power of two from 512 on.
_SIGNATURE_OFFSETS = (0, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class HierarchyArrays:
    """The stored class tree: parallel arrays over nodes in depth-first pre-order."""

    names: list[str]
    parent: np.ndarray  # (nodes,) int32, -1 for the root
    class_index: np.ndarray  # (nodes,) int32, -1 for internal nodes
    source: str


@dataclass(frozen=True)
class DatasetInfo:
    """Size and storage of one dataset, for ``blocks-tui info``."""

    path: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    stored_bytes: int
    compression: str | None
    chunks: tuple[int, ...] | None


class ResultSet:
    """One result set's top-k predictions, read from disk on first use."""

    def __init__(self, group: h5py.Group, path: Path, n_classes: int) -> None:
        self._group = group
        self._path = path
        self._n_classes = n_classes
        self.name = group.name.rsplit("/", 1)[-1]

    @cached_property
    def attrs(self) -> dict[str, Any]:
        """What the producer recorded (transform, epoch ...); text cut to MAX_ATTR_CHARS, invalid UTF-8 replaced."""
        with reading(self._path, f"{s.RESULTS}/{self.name}"):
            return {text(k, s.MAX_ATTR_CHARS): _plain(v) for k, v in self._group.attrs.items()}

    @cached_property
    def topk_index(self) -> np.ndarray:
        """(samples, k) int32 class indices, best first (-1 pads when there are fewer than k classes).

        Checked on first read rather than on open, so opening stays cheap.
        """
        topk = self._read(s.TOPK_INDEX)
        if topk.size and (topk.min() < -1 or topk.max() >= self._n_classes or (topk[:, 0] < 0).any()):
            raise CacheError(f"{self._path}: damaged cache: 'results/{printable(self.name, 200)}/{s.TOPK_INDEX}' "
                             f"holds classes outside [0, {self._n_classes})")
        return topk.astype(np.int32, copy=False)

    @cached_property
    def topk_prob(self) -> np.ndarray:
        """(samples, k) float32 probabilities of ``topk_index``."""
        return self._read(s.TOPK_PROB).astype(np.float32, copy=False)

    @cached_property
    def true_prob(self) -> np.ndarray:
        """(samples,) float32 probability the model gave the stored label."""
        return self._read(s.TRUE_PROB).astype(np.float32, copy=False)

    @property
    def predicted(self) -> np.ndarray:
        """(samples,) int32 top-1 class."""
        return self.topk_index[:, 0]

    @property
    def k(self) -> int:
        with reading(self._path, f"{s.RESULTS}/{self.name}/{s.TOPK_INDEX}"):
            return int(self._group[s.TOPK_INDEX].shape[1])

    def _read(self, key: str) -> np.ndarray:
        with reading(self._path, f"{s.RESULTS}/{self.name}/{key}"):
            return self._group[key][()]


class LayerResponses:
    """One layer's downsampled responses; nothing is read until asked.

    Channels and d come from the shape of ``class_mean``, which the reader
    checked on open against ``collective``, ``maps`` and the ``d`` attribute.
    """

    def __init__(self, group: h5py.Group, path: Path) -> None:
        self._group = group
        self._path = path
        key = group.name.rsplit("/", 1)[-1]
        with reading(path, f"{s.LAYERS}/{key}"):
            self.name = attr_text(group.attrs, s.ATTR_LAYER_NAME, default=key)
            self.output_shape = _int_tuple(group.attrs.get(s.ATTR_OUTPUT_SHAPE))
            _, self.channels, self.d, _ = (int(v) for v in group[s.CLASS_MEAN].shape)
            self.has_maps = s.MAPS in group
        self._datasets: dict[str, h5py.Dataset] = {}

    def class_mean(self, classes: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(classes, channels, d, d) float32 mean response per class."""
        return self._rows(s.CLASS_MEAN, classes)

    def collective(self, samples: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(samples, channels) float16: each channel's d×d cells summed (f_N(x))."""
        return self._rows(s.COLLECTIVE, samples)

    def maps(self, samples: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(samples, channels, d, d) float16 per-sample maps, when stored."""
        if not self.has_maps:
            raise CacheError(f"layer {printable(self.name, 200)!r} has no per-sample maps; extract with --maps")
        return self._rows(s.MAPS, samples)

    def release(self) -> None:
        """Close the datasets opened so far: each holds a chunk cache of up to 64 MB, which a layer read
        once in big blocks never uses again (four 10,000-class layers kept 400 MB of them)."""
        self._datasets.clear()

    def _rows(self, name: str, rows: np.ndarray | slice) -> np.ndarray:
        """Rows of ``name`` in this layer's group, opened once: its chunk cache then serves repeated reads."""
        with reading(self._path, f"{self._group.name.lstrip('/')}/{name}"):
            opened = self._datasets.get(name)
            if opened is None:
                opened = self._datasets[name] = self._group[name]
            return _read_rows(opened, rows)


class Cache:
    """An open, validated cache.  Close it, or use it as a context manager.

    Every read, on open or later, raises :class:`CacheError` (one line naming
    the dataset) when the file turns out damaged; nothing else escapes.
    """

    def __init__(self, path: Path, file: h5py.File) -> None:
        self.path = path
        self._file = file
        self._layers: dict[str, LayerResponses] = {}
        with reading(path, "/ attributes"):
            attrs = file.attrs
            self.format_version = int(attrs[s.ATTR_VERSION])
            self.producer = attr_text(attrs, s.ATTR_PRODUCER, "unknown")
            self.created = attr_text(attrs, s.ATTR_CREATED)
            self.config: dict[str, Any] = _load_config(path, attrs.get(s.ATTR_CONFIG, "{}"))
        self.class_names: list[str] = self._strings(s.CLASS_NAMES)
        self.class_ids: list[str] | None = self._strings(s.CLASS_IDS) if self._has(s.CLASS_IDS) else None
        with reading(path, s.HIERARCHY):
            self.hierarchy = HierarchyArrays(
                names=self._strings(s.NODE_NAMES),
                parent=file[s.NODE_PARENT][()].astype(np.int32),
                class_index=file[s.NODE_CLASS][()].astype(np.int32),
                source=attr_text(file[s.HIERARCHY].attrs, s.ATTR_SOURCE, "file"),
            )
        with reading(path, s.SAMPLE_LABEL):
            self.labels: np.ndarray = file[s.SAMPLE_LABEL][()].astype(np.int32)
        with reading(path, s.RESULTS):
            self.result_names: list[str] = list(file[s.RESULTS].keys())
        with reading(path, s.LAYERS):
            keys = list(file[s.LAYERS].keys())
            self.layer_names: list[str] = [attr_text(file[s.LAYERS][key].attrs, s.ATTR_LAYER_NAME, key) for key in keys]
        self._layer_keys = dict(zip(self.layer_names, keys))
        self._results: dict[str, ResultSet] = {}

    # -- sizes -----------------------------------------------------------
    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_samples(self) -> int:
        return len(self.labels)

    @property
    def thumbnail_shape(self) -> tuple[int, int, int]:
        return tuple(self._thumbnail_rows.shape[1:])  # type: ignore[return-value]

    # -- lazy sections ---------------------------------------------------------
    @cached_property
    def sources(self) -> list[str]:
        """Source path or id of every sample."""
        return self._strings(s.SAMPLE_SOURCE)

    @cached_property
    def skipped(self) -> list[tuple[str, str]]:
        """Inputs the producer skipped (unreadable, not an image), with the reason."""
        if not self._has(s.SKIPPED):
            return []
        return list(zip(self._strings(s.SKIPPED_SOURCE), self._strings(s.SKIPPED_REASON)))

    def thumbnails(self, samples: np.ndarray | slice) -> np.ndarray:
        """(n, H, W, 3) uint8 thumbnails of the given samples, in the given order; CacheError when a
        chunk is damaged (the kind and shape were checked on open, so nothing else comes back)."""
        with reading(self.path, s.SAMPLE_THUMBNAIL):
            return _read_rows(self._thumbnail_rows, samples)

    def thumbnail(self, sample: int) -> np.ndarray:
        """(H, W, 3) uint8 thumbnail of one sample; CacheError when its chunk is damaged."""
        with reading(self.path, s.SAMPLE_THUMBNAIL):
            return self._thumbnail_rows[int(sample)]

    @cached_property
    def _thumbnail_rows(self) -> h5py.Dataset:
        """The thumbnails, kept open: HDF5's chunk cache lives as long as the open dataset, so opening it
        per read decompressed every gzip chunk again (4 ms for the sample pane's ten thumbnails)."""
        with reading(self.path, s.SAMPLE_THUMBNAIL):
            return self._file[s.SAMPLE_THUMBNAIL]

    def default_result(self) -> str:
        """The set shown when none is asked for: ``original`` if present, else the first."""
        return result_names.default_result(self.result_names)

    def require_result(self, name: str | None = None) -> str:
        """``name`` (the default set when None) if this cache has it; else a UsageError (exit 2) listing its
        sets: for names that come from the command line."""
        return result_names.check_result(self.result_names, name or self.default_result(), self.path)

    def result(self, name: str) -> ResultSet:
        """The named result set; raises CacheError listing the known ones."""
        if name not in self.result_names:
            known = ", ".join(printable(n, 200) for n in self.result_names)
            raise CacheError(f"{self.path}: no result set {printable(name, 200)!r}; it has {known}")
        if name not in self._results:
            with reading(self.path, f"{s.RESULTS}/{name}"):
                self._results[name] = ResultSet(self._file[s.RESULTS][name], self.path, self.n_classes)
        return self._results[name]

    def layer(self, name: str) -> LayerResponses:
        """The named layer's responses; raises CacheError listing the known ones."""
        if name not in self._layer_keys:
            known = ", ".join(printable(n, 200) for n in self.layer_names) or "none"
            raise CacheError(f"{self.path}: no layer {printable(name, 200)!r}; it has {known}")
        layer = self._layers.get(name)
        if layer is None:  # one object per layer, so its open datasets (and their chunk caches) are shared
            with reading(self.path, f"{s.LAYERS}/{self._layer_keys[name]}"):
                group = self._file[s.LAYERS][self._layer_keys[name]]
            layer = self._layers[name] = LayerResponses(group, self.path)
        return layer

    @property
    def probe_split(self) -> np.ndarray | None:
        """(samples,) int8 fold (0 or 1) of every sample for the ``probe:<layer>`` result sets; None before any probe.

        The probe trained on fold 0 predicted fold 1 and vice versa, so every
        stored probe prediction is held-out.
        """
        with reading(self.path, s.PROBE_SPLIT):
            return self._file[s.PROBE_SPLIT][()].astype(np.int8) if s.PROBE_SPLIT in self._file else None

    @property
    def probe_split_method(self) -> str:
        """How the folds were assigned, in words ('' before any probe)."""
        with reading(self.path, s.PROBES):
            return attr_text(self._file[s.PROBES].attrs, s.ATTR_SPLIT_METHOD) if s.PROBES in self._file else ""

    @property
    def has_ground_truth(self) -> bool:
        with reading(self.path, s.GROUND_TRUTH):
            return s.GROUND_TRUTH in self._file

    def ground_truth(self) -> dict[str, Any]:
        """What a synthetic data set planted.  For tests and benchmarks only."""
        if not self.has_ground_truth:
            raise CacheError(f"{self.path}: no ground truth (only the demo data set records one)")
        with reading(self.path, s.GROUND_TRUTH):
            raw = self._file[s.GROUND_TRUTH][s.ATTR_JSON][()]
            return _load_json(self.path, raw, "ground truth")

    def describe(self) -> list[DatasetInfo]:
        """Every dataset with its shape, dtype and bytes on disk."""
        found: list[DatasetInfo] = []

        def visit(name: str, obj: h5py.HLObject) -> None:
            if isinstance(obj, h5py.Dataset):
                with reading(self.path, name):
                    found.append(
                        DatasetInfo(
                            path=text(name, s.MAX_ATTR_CHARS),
                            shape=tuple(obj.shape or ()),
                            dtype=str(obj.dtype) if obj.dtype.kind != "O" else "str",
                            nbytes=int(obj.size or 0) * obj.dtype.itemsize,
                            stored_bytes=int(obj.id.get_storage_size()),
                            compression=obj.compression,
                            chunks=obj.chunks,
                        )
                    )

        with reading(self.path, "the list of datasets"):
            self._file.visititems(visit)
        return found

    def _has(self, name: str) -> bool:
        with reading(self.path, name):
            return name in self._file

    def _strings(self, name: str) -> list[str]:
        """A text dataset as ``str``s, invalid UTF-8 replaced (U+FFFD) rather than an error."""
        with reading(self.path, name):
            return [str(v) for v in self._file[name].asstr(errors="replace")[()]]

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Cache":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_cache(path: Path | str) -> Cache:
    """Open and validate a cache, or raise CacheError with a one-line reason."""
    path = Path(path)
    file, size = _open_hdf5(path)
    try:
        with reading(path, "its string heaps"):
            problem = heap_problem(path, file, size)
        if problem:
            raise CacheError(f"{path}: damaged cache: {problem}")
        with reading(path, "its structure"):
            validate(path, file, size)
        return Cache(path, file)
    except BaseException:
        file.close()
        raise


# -- opening ---------------------------------------------------------------------
def _open_hdf5(path: Path) -> tuple[h5py.File, int]:
    """The file opened read-only, and its size; only a regular file is ever opened (a FIFO would block)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        partial = partial_path(path)
        if partial.exists():
            raise CacheError(
                f"{path}: no such cache, but an interrupted run left {partial.name}; {_progress_of(partial)}"
            ) from None
        raise CacheError(f"{path}: no such file") from None
    except OSError as exc:
        raise CacheError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise CacheError(f"{path}: is a folder, not a cache file")
    if not stat.S_ISREG(mode):
        raise CacheError(f"{path}: is {kind_of(mode)}, not a cache file")
    try:
        size, signed = _signature(path)
    except OSError as exc:
        raise CacheError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not signed:
        raise CacheError(f"{path}: not an HDF5 file ({size} bytes); blocks-tui caches are HDF5")
    try:
        return h5py.File(path, "r", rdcc_nbytes=s.READ_CHUNK_CACHE_BYTES), size
    except (OSError, RuntimeError, ValueError) as exc:
        if "truncated" in str(exc):
            raise CacheError(f"{path}: truncated HDF5 file ({size} bytes); re-create it") from exc
        raise CacheError(f"{path}: damaged HDF5 file ({printable(first_line(exc), 200)})") from exc


def _signature(path: Path) -> tuple[int, bool]:
    """The file's size and whether HDF5's signature stands where HDF5 looks for it.

    Opened non-blocking and checked again once open, so a FIFO swapped in
    after the first look cannot block the reader either.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, f"is {kind_of(info.st_mode)}")
        signed = any(os.pread(fd, 8, offset) == _HDF5_SIGNATURE for offset in _SIGNATURE_OFFSETS)
        return info.st_size, signed
    finally:
        os.close(fd)


def _progress_of(partial: Path) -> str:
    """'got N of M samples; resume with ...' for an unfinished file, as far as it can be read."""
    unreadable = "it cannot be read (killed mid-write); run the command again to rebuild it"
    try:
        if not partial.is_file():
            return unreadable
        with h5py.File(partial, "r") as f:
            if heap_problem(partial, f, partial.stat().st_size):
                return unreadable
            return incomplete_reason(f)
    except READ_ERRORS:
        return unreadable


# -- small helpers ----------------------------------------------------------------
SLICE_ROW_BYTES = 512
"""Uncompressed rows at least this big are read run by run; smaller ones with h5py's fancy indexing.
Measured crossover: between 128-byte rows (fancy 2x faster) and 1 KiB rows (slices 2.6x faster)."""


def _read_rows(dataset: h5py.Dataset, rows: np.ndarray | slice) -> np.ndarray:
    """Read rows in the caller's order (repeats allowed).

    h5py's fancy indexing costs HDF5 time per row that grows with the row's
    size, and much more on gzip chunks: ten thumbnails took 6 ms with their
    chunks in the cache, 1,000 rows of a 512-channel layer 16 ms.  Reading
    each run of consecutive rows as a slice costs a flat ~5 µs a run
    (0.14 ms and 6 ms), which only loses on small uncompressed rows (a
    64-channel layer: 5 ms against 2.8 ms for 1,000 rows), so those keep
    fancy indexing.  A dense set is read as one slice of its whole span.
    See ``blocks-tui bench open``.
    """
    if isinstance(rows, slice):
        return dataset[rows]
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.empty((0,) + dataset.shape[1:], dtype=dataset.dtype)
    unique, inverse = np.unique(rows, return_inverse=True)
    first, last = int(unique[0]), int(unique[-1])
    if last - first + 1 <= 2 * len(unique):  # dense: one read of the span, picked in memory
        return dataset[first : last + 1][unique - first][inverse]
    row_bytes = dataset.dtype.itemsize * int(np.prod(dataset.shape[1:], dtype=np.int64))
    if dataset.compression is None and row_bytes < SLICE_ROW_BYTES:
        return dataset[unique][inverse]
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    starts, stops = np.r_[0, breaks], np.r_[breaks, len(unique)]
    parts = [dataset[int(unique[a]) : int(unique[b - 1]) + 1] for a, b in zip(starts, stops)]
    return np.concatenate(parts)[inverse]


def _plain(value: Any) -> Any:
    """An attribute value as plain Python: text cleaned and cut, numpy scalars and arrays unwrapped."""
    if isinstance(value, (bytes, str)):
        return text(value, s.MAX_ATTR_CHARS)
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _int_tuple(value: Any) -> tuple[int, ...]:
    """A shape attribute as a tuple of ints; () when it is anything else (it is only shown)."""
    values = np.asarray(value) if value is not None else np.zeros(0)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        return ()
    return tuple(int(v) for v in values)


def _load_config(path: Path, raw: Any) -> dict[str, Any]:
    """The config attribute's JSON object; one longer than MAX_CONFIG_CHARS is refused unparsed."""
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw[()]
    if isinstance(raw, (str, bytes)) and len(raw) > s.MAX_CONFIG_CHARS:
        raise CacheError(f"{path}: damaged cache: config attribute is {len(raw):,} characters "
                         f"(at most {s.MAX_CONFIG_CHARS:,})")
    return _load_json(path, raw, "config attribute")


def _load_json(path: Path, raw: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text(raw) if isinstance(raw, (str, bytes)) else raw)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CacheError(f"{path}: {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise CacheError(f"{path}: {what} is not a JSON object")
    return value
