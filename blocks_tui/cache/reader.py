"""The cache reader: validates a file on open, then reads lazily.

Opening checks the format, the version, completeness and every dataset's
shape against the others, reading only metadata and the small arrays (labels,
hierarchy).  Responses and thumbnails stay on disk until asked for, so opening
a 50k-sample, 1000-class cache costs milliseconds and megabytes, not gigabytes.
Every problem raises :class:`~blocks_tui.errors.CacheError` with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from ..errors import CacheError
from . import schema as s
from .tree_arrays import tree_arrays_problem
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
        self.attrs: dict[str, Any] = {k: _plain(v) for k, v in group.attrs.items()}

    @cached_property
    def topk_index(self) -> np.ndarray:
        """(samples, k) int32 class indices, best first (-1 pads when there are fewer than k classes).

        Checked on first read rather than on open, so opening stays cheap.
        """
        topk = self._group[s.TOPK_INDEX][()]
        if topk.size and (topk.min() < -1 or topk.max() >= self._n_classes or (topk[:, 0] < 0).any()):
            raise CacheError(f"{self._path}: damaged cache: 'results/{self.name}/{s.TOPK_INDEX}' "
                             f"holds classes outside [0, {self._n_classes})")
        return topk

    @cached_property
    def topk_prob(self) -> np.ndarray:
        """(samples, k) float32 probabilities of ``topk_index``."""
        return self._group[s.TOPK_PROB][()]

    @cached_property
    def true_prob(self) -> np.ndarray:
        """(samples,) float32 probability the model gave the stored label."""
        return self._group[s.TRUE_PROB][()]

    @property
    def predicted(self) -> np.ndarray:
        """(samples,) int32 top-1 class."""
        return self.topk_index[:, 0]

    @property
    def k(self) -> int:
        return int(self._group[s.TOPK_INDEX].shape[1])


class LayerResponses:
    """One layer's downsampled responses; nothing is read until asked."""

    def __init__(self, group: h5py.Group) -> None:
        self._group = group
        self.name = str(group.attrs.get(s.ATTR_LAYER_NAME, group.name.rsplit("/", 1)[-1]))
        self.output_shape = tuple(int(v) for v in group.attrs.get(s.ATTR_OUTPUT_SHAPE, ()))
        self.d = int(group.attrs.get(s.ATTR_CELLS, 1))
        self.channels = int(group[s.CLASS_MEAN].shape[1])
        self.has_maps = s.MAPS in group
        self._datasets: dict[str, h5py.Dataset] = {}

    def class_mean(self, classes: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(classes, channels, d, d) float32 mean response per class."""
        return _read_rows(self._dataset(s.CLASS_MEAN), classes)

    def collective(self, samples: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(samples, channels) float16: each channel's d×d cells summed (f_N(x))."""
        return _read_rows(self._dataset(s.COLLECTIVE), samples)

    def maps(self, samples: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(samples, channels, d, d) float16 per-sample maps, when stored."""
        if not self.has_maps:
            raise CacheError(f"layer {self.name!r} has no per-sample maps; extract with --maps")
        return _read_rows(self._dataset(s.MAPS), samples)

    def _dataset(self, name: str) -> h5py.Dataset:
        """``name`` in this layer's group, opened once: its chunk cache then serves repeated reads."""
        opened = self._datasets.get(name)
        if opened is None:
            opened = self._datasets[name] = self._group[name]
        return opened


class Cache:
    """An open, validated cache.  Close it, or use it as a context manager."""

    def __init__(self, path: Path, file: h5py.File) -> None:
        self.path = path
        self._file = file
        self._layers: dict[str, LayerResponses] = {}
        attrs = file.attrs
        self.format_version = int(attrs[s.ATTR_VERSION])
        self.producer = str(attrs.get(s.ATTR_PRODUCER, "unknown"))
        self.created = str(attrs.get(s.ATTR_CREATED, ""))
        self.config: dict[str, Any] = _load_json(path, attrs.get(s.ATTR_CONFIG, "{}"), "config attribute")
        self.class_names: list[str] = _strings(file[s.CLASS_NAMES])
        self.class_ids: list[str] | None = _strings(file[s.CLASS_IDS]) if s.CLASS_IDS in file else None
        self.hierarchy = HierarchyArrays(
            names=_strings(file[s.NODE_NAMES]),
            parent=file[s.NODE_PARENT][()].astype(np.int32),
            class_index=file[s.NODE_CLASS][()].astype(np.int32),
            source=str(file[s.HIERARCHY].attrs.get(s.ATTR_SOURCE, "file")),
        )
        self.labels: np.ndarray = file[s.SAMPLE_LABEL][()].astype(np.int32)
        self.result_names: list[str] = list(file[s.RESULTS].keys())
        self.layer_names: list[str] = [
            str(g.attrs.get(s.ATTR_LAYER_NAME, key)) for key, g in file[s.LAYERS].items()
        ]
        self._layer_keys = dict(zip(self.layer_names, file[s.LAYERS].keys()))
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
        return tuple(self._file[s.SAMPLE_THUMBNAIL].shape[1:])  # type: ignore[return-value]

    # -- lazy sections ---------------------------------------------------------
    @cached_property
    def sources(self) -> list[str]:
        """Source path or id of every sample."""
        return _strings(self._file[s.SAMPLE_SOURCE])

    @cached_property
    def skipped(self) -> list[tuple[str, str]]:
        """Inputs the producer skipped (unreadable, not an image), with the reason."""
        if s.SKIPPED not in self._file:
            return []
        return list(zip(_strings(self._file[s.SKIPPED_SOURCE]), _strings(self._file[s.SKIPPED_REASON])))

    def thumbnails(self, samples: np.ndarray | slice) -> np.ndarray:
        """(n, H, W, 3) uint8 thumbnails of the given samples, in the given order."""
        return _read_rows(self._thumbnail_rows, samples)

    def thumbnail(self, sample: int) -> np.ndarray:
        """(H, W, 3) uint8 thumbnail of one sample."""
        return self._thumbnail_rows[int(sample)]

    @cached_property
    def _thumbnail_rows(self) -> h5py.Dataset:
        """The thumbnails, kept open: HDF5's chunk cache lives as long as the open dataset, so opening it
        per read decompressed every gzip chunk again (4 ms for the sample pane's ten thumbnails)."""
        return self._file[s.SAMPLE_THUMBNAIL]

    def result(self, name: str) -> ResultSet:
        """The named result set; raises CacheError listing the known ones."""
        if name not in self.result_names:
            raise CacheError(f"{self.path}: no result set {name!r}; it has {', '.join(self.result_names)}")
        if name not in self._results:
            self._results[name] = ResultSet(self._file[s.RESULTS][name], self.path, self.n_classes)
        return self._results[name]

    def layer(self, name: str) -> LayerResponses:
        """The named layer's responses; raises CacheError listing the known ones."""
        if name not in self._layer_keys:
            known = ", ".join(self.layer_names) or "none"
            raise CacheError(f"{self.path}: no layer {name!r}; it has {known}")
        layer = self._layers.get(name)
        if layer is None:  # one object per layer, so its open datasets (and their chunk caches) are shared
            layer = self._layers[name] = LayerResponses(self._file[s.LAYERS][self._layer_keys[name]])
        return layer

    @property
    def probe_split(self) -> np.ndarray | None:
        """(samples,) int8 fold (0 or 1) of every sample for the ``probe:<layer>`` result sets; None before any probe.

        The probe trained on fold 0 predicted fold 1 and vice versa, so every
        stored probe prediction is held-out.
        """
        return self._file[s.PROBE_SPLIT][()] if s.PROBE_SPLIT in self._file else None

    @property
    def probe_split_method(self) -> str:
        """How the folds were assigned, in words ('' before any probe)."""
        return str(_plain(self._file[s.PROBES].attrs.get(s.ATTR_SPLIT_METHOD, ""))) if s.PROBES in self._file else ""

    @property
    def has_ground_truth(self) -> bool:
        return s.GROUND_TRUTH in self._file

    def ground_truth(self) -> dict[str, Any]:
        """What a synthetic data set planted.  For tests and benchmarks only."""
        if not self.has_ground_truth:
            raise CacheError(f"{self.path}: no ground truth (only the demo data set records one)")
        raw = self._file[s.GROUND_TRUTH][s.ATTR_JSON][()]
        return _load_json(self.path, raw, "ground truth")

    def describe(self) -> list[DatasetInfo]:
        """Every dataset with its shape, dtype and bytes on disk."""
        found: list[DatasetInfo] = []

        def visit(name: str, obj: h5py.HLObject) -> None:
            if isinstance(obj, h5py.Dataset):
                found.append(
                    DatasetInfo(
                        path=name,
                        shape=tuple(obj.shape),
                        dtype=str(obj.dtype) if obj.dtype.kind != "O" else "str",
                        nbytes=int(obj.size * obj.dtype.itemsize),
                        stored_bytes=int(obj.id.get_storage_size()),
                        compression=obj.compression,
                        chunks=obj.chunks,
                    )
                )

        self._file.visititems(visit)
        return found

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
    file = _open_hdf5(path)
    try:
        _validate(path, file)
        return Cache(path, file)
    except CacheError:
        file.close()
        raise
    except (KeyError, OSError, ValueError, TypeError) as exc:
        file.close()
        raise CacheError(f"{path}: damaged cache ({_first_line(exc)})") from exc


# -- opening and validation -------------------------------------------------------
def _open_hdf5(path: Path) -> h5py.File:
    if not path.exists():
        partial = partial_path(path)
        if partial.exists():
            raise CacheError(
                f"{path}: no such cache, but an interrupted run left {partial.name}; {_progress_of(partial)}"
            )
        raise CacheError(f"{path}: no such file")
    if path.is_dir():
        raise CacheError(f"{path}: is a folder, not a cache file")
    size = path.stat().st_size
    if not _has_hdf5_signature(path):
        raise CacheError(f"{path}: not an HDF5 file ({size} bytes); blocks-tui caches are HDF5")
    try:
        return h5py.File(path, "r", rdcc_nbytes=s.READ_CHUNK_CACHE_BYTES)
    except OSError as exc:
        if "truncated" in str(exc):
            raise CacheError(f"{path}: truncated HDF5 file ({size} bytes); re-create it") from exc
        raise CacheError(f"{path}: damaged HDF5 file ({_first_line(exc)})") from exc


def _has_hdf5_signature(path: Path) -> bool:
    with open(path, "rb") as f:
        for offset in _SIGNATURE_OFFSETS:
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return True
    return False


def _progress_of(partial: Path) -> str:
    """'got N of M samples; resume with ...' for an unfinished file, as far as it can be read."""
    try:
        with h5py.File(partial, "r") as f:
            return _incomplete_reason(f)
    except OSError:
        return "it cannot be read (killed mid-write); run the command again to rebuild it"


def _incomplete_reason(file: h5py.File) -> str:
    attrs = file.attrs
    done = attrs.get(s.ATTR_PROGRESS_DONE)
    total = attrs.get(s.ATTR_PROGRESS_TOTAL)
    hint = str(attrs.get(s.ATTR_RESUME_HINT, "")) or "run the command that made it again"
    got = f"it got {int(done)} of {int(total)} samples" if done is not None and total else "it stopped early"
    return f"{got}; resume with `{hint}`" if hint.startswith("blocks-tui") else f"{got}; {hint}"


def _validate(path: Path, file: h5py.File) -> None:
    attrs = file.attrs
    fmt = attrs.get(s.ATTR_FORMAT)
    if fmt is None or str(fmt) != s.FORMAT_NAME:
        raise CacheError(f"{path}: not a blocks-tui cache (format attribute is {_plain(fmt)!r})")
    version = int(attrs.get(s.ATTR_VERSION, -1))
    if version > s.FORMAT_VERSION:
        raise CacheError(
            f"{path}: cache format version {version} is newer than this blocks-tui reads "
            f"({s.FORMAT_VERSION}); upgrade blocks-tui"
        )
    if version < 1:
        raise CacheError(f"{path}: invalid cache format version {version}")
    if not bool(attrs.get(s.ATTR_COMPLETE, False)):
        raise CacheError(f"{path}: incomplete cache: {_incomplete_reason(file)}")
    for name in (s.CLASS_NAMES, s.NODE_NAMES, s.NODE_PARENT, s.NODE_CLASS,
                 s.SAMPLE_LABEL, s.SAMPLE_SOURCE, s.SAMPLE_THUMBNAIL, s.RESULTS, s.LAYERS):
        if name not in file:
            raise CacheError(f"{path}: missing {'group' if name in (s.RESULTS, s.LAYERS) else 'dataset'} '{name}'")

    n_classes = _length(file, s.CLASS_NAMES)
    count = file[s.CLASSES].attrs.get(s.ATTR_COUNT, n_classes)
    if int(count) != n_classes:
        raise CacheError(f"{path}: classes count attribute says {int(count)} but '{s.CLASS_NAMES}' has {n_classes}")
    if s.CLASS_IDS in file:
        _expect_rows(path, file, s.CLASS_IDS, n_classes, "classes")
    n_nodes = _length(file, s.NODE_NAMES)
    _expect_rows(path, file, s.NODE_PARENT, n_nodes, "hierarchy nodes")
    _expect_rows(path, file, s.NODE_CLASS, n_nodes, "hierarchy nodes")
    problem = tree_arrays_problem(file[s.NODE_PARENT][()], file[s.NODE_CLASS][()], n_classes)
    if problem:
        raise CacheError(f"{path}: invalid hierarchy: {problem}")

    n = _length(file, s.SAMPLE_LABEL)
    _expect_rows(path, file, s.SAMPLE_SOURCE, n, "samples")
    _expect_rows(path, file, s.SAMPLE_THUMBNAIL, n, "samples")
    labels = file[s.SAMPLE_LABEL][()]
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise CacheError(f"{path}: '{s.SAMPLE_LABEL}' holds labels outside [0, {n_classes})")

    if s.SKIPPED in file:
        for name in (s.SKIPPED_SOURCE, s.SKIPPED_REASON):
            if name not in file:
                raise CacheError(f"{path}: missing dataset '{name}'")
        _expect_rows(path, file, s.SKIPPED_REASON, _length(file, s.SKIPPED_SOURCE), "skipped inputs")

    if not len(file[s.RESULTS]):
        raise CacheError(f"{path}: no result sets under '{s.RESULTS}'")
    for name, group in file[s.RESULTS].items():
        base = f"{s.RESULTS}/{name}"
        for key in (s.TOPK_INDEX, s.TOPK_PROB, s.TRUE_PROB):
            if key not in group:
                raise CacheError(f"{path}: missing dataset '{base}/{key}'")
            _expect_rows(path, file, f"{base}/{key}", n, "samples")
        if group[s.TOPK_INDEX].shape != group[s.TOPK_PROB].shape:
            raise CacheError(f"{path}: '{base}/{s.TOPK_INDEX}' and '{base}/{s.TOPK_PROB}' differ in shape")

    if s.PROBES in file:
        if s.PROBE_SPLIT not in file:
            raise CacheError(f"{path}: missing dataset '{s.PROBE_SPLIT}'")
        _expect_rows(path, file, s.PROBE_SPLIT, n, "samples")
        split = file[s.PROBE_SPLIT][()]
        if split.size and not np.isin(split, (0, 1)).all():
            raise CacheError(f"{path}: '{s.PROBE_SPLIT}' holds folds other than 0 and 1")

    for name, group in file[s.LAYERS].items():
        base = f"{s.LAYERS}/{name}"
        for key in (s.CLASS_MEAN, s.COLLECTIVE):
            if key not in group:
                raise CacheError(f"{path}: missing dataset '{base}/{key}'")
        _expect_rows(path, file, f"{base}/{s.CLASS_MEAN}", n_classes, "classes")
        _expect_rows(path, file, f"{base}/{s.COLLECTIVE}", n, "samples")
        channels = group[s.CLASS_MEAN].shape[1]
        if group[s.COLLECTIVE].shape[1:] != (channels,):
            raise CacheError(f"{path}: '{base}/{s.COLLECTIVE}' does not have {channels} channels")
        if s.MAPS in group:
            _expect_rows(path, file, f"{base}/{s.MAPS}", n, "samples")


def _length(file: h5py.File, name: str) -> int:
    return int(file[name].shape[0]) if file[name].shape else 0


def _expect_rows(path: Path, file: h5py.File, name: str, expected: int, what: str) -> None:
    rows = _length(file, name)
    if rows != expected:
        raise CacheError(f"{path}: '{name}' has {rows} rows but the cache has {expected} {what}")


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


def _strings(dataset: h5py.Dataset) -> list[str]:
    return list(dataset.asstr()[()])


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _load_json(path: Path, raw: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_plain(raw))
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{path}: {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise CacheError(f"{path}: {what} is not a JSON object")
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

