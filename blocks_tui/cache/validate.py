"""What a cache must look like before anything reads it: kinds, ranks, shapes and sizes.

Why on open, and from metadata only: a damaged or hostile file that passes
here would fail later, deep inside numpy or a widget, as an ``IndexError``
or a traceback on the screen; one that declares 20 million samples in a few
kilobytes would make the viewer allocate gigabytes of fill values.  Checking
every dataset's type, rank and stored bytes costs microseconds each and reads
no data, so opening stays fast.  Every problem is one line naming the
dataset (:class:`~blocks_tui.errors.CacheError`); :func:`reading` turns what
h5py raises on a damaged file (``OSError``, ``RuntimeError``, ...) into the
same.
"""

from __future__ import annotations

import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import h5py
import numpy as np

from ..errors import CacheError
from ..safe_text import printable
from . import schema as s
from .tree_arrays import tree_arrays_problem

# What h5py, numpy and the codecs raise on a damaged file; MemoryError for sizes that lie.
READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, OverflowError, MemoryError)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (h5py's span several), or its type's name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn any error h5py raises while reading ``what`` into one CacheError line naming it."""
    try:
        yield
    except CacheError:
        raise
    except READ_ERRORS as exc:
        raise CacheError(f"{path}: damaged cache: cannot read '{printable(what, 200)}' "
                         f"({printable(first_line(exc), 200)})") from exc


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words, for a message ("a FIFO", "a device" ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def attr_text(attrs: h5py.AttributeManager, name: str, default: str = "") -> str:
    """A text attribute as a clean ``str``: invalid UTF-8 replaced, cut to MAX_ATTR_CHARS; ``default``
    when it is missing or not text."""
    value = attrs.get(name)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "OSU":
        value = value[()]
    return text(value, s.MAX_ATTR_CHARS) if isinstance(value, (str, bytes)) else default


def text(value: str | bytes, limit: int | None = None) -> str:
    """``value`` as valid UTF-8 text (h5py hands invalid bytes back as surrogates), cut to ``limit``."""
    if isinstance(value, bytes):
        value = value[: limit * 4] if limit else value
        return value.decode("utf-8", "replace")[:limit]
    value = value[:limit] if limit else value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def attr_int(attrs: h5py.AttributeManager, name: str) -> int | None:
    """An integer attribute (a bool counts), or None when it is missing or anything else."""
    value = attrs.get(name)
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bool, int, np.bool_, np.integer)):
        return int(value)
    return None


# -- the checks ------------------------------------------------------------------------------------
class Checker:
    """One open file's checks; ``file_size`` bounds what its datasets may declare."""

    def __init__(self, path: Path, file: h5py.File, file_size: int) -> None:
        self.path, self.file, self.file_size = path, file, file_size

    def fail(self, message: str) -> CacheError:
        return CacheError(f"{self.path}: {message}")

    def node(self, name: str) -> h5py.Group | h5py.Dataset | None:
        """The object at ``name``, None when missing; a dataset standing where a group belongs is damage."""
        obj: Any = self.file
        with reading(self.path, name):
            for depth, part in enumerate(name.split("/")):
                if not isinstance(obj, h5py.Group):
                    where = "/".join(name.split("/")[:depth])
                    raise self.fail(f"damaged cache: '{where}' is a dataset where a group belongs")
                obj = obj.get(part)
                if obj is None:
                    return None
            return obj

    def group(self, name: str, required: bool = True) -> h5py.Group | None:
        obj = self.node(name)
        if obj is None:
            if required:
                raise self.fail(f"missing group '{name}'")
            return None
        if not isinstance(obj, h5py.Group):
            raise self.fail(f"damaged cache: '{name}' is a dataset where a group belongs")
        return obj

    def dataset(self, name: str, layout: tuple[str, int], required: bool = True) -> h5py.Dataset | None:
        """The dataset at ``name`` after checking its kind, rank and declared size."""
        obj = self.node(name)
        if obj is None:
            if required:
                raise self.fail(f"missing dataset '{name}'")
            return None
        if not isinstance(obj, h5py.Dataset):
            raise self.fail(f"damaged cache: '{name}' is a group where a dataset belongs")
        kind, rank = layout
        with reading(self.path, name):
            if obj.shape is None or len(obj.shape) != rank:
                raise self.fail(f"damaged cache: '{name}' has shape {obj.shape}, expected {rank} dimension(s)")
            if not _is_kind(obj.dtype, kind):
                raise self.fail(f"damaged cache: '{name}' holds {_dtype_name(obj.dtype)}, expected "
                                f"{_KIND_NAMES[kind]}")
            self._check_size(name, obj)
        return obj

    def _check_size(self, name: str, obj: h5py.Dataset) -> None:
        """Refuse a dataset that declares more than its stored bytes can hold (metadata only)."""
        declared = int(obj.size) * obj.dtype.itemsize
        stored = int(obj.id.get_storage_size())
        if stored > self.file_size:
            raise self.fail(f"damaged cache: '{name}' claims {stored:,} stored bytes in a {self.file_size:,}-byte file")
        filtered = obj.id.get_create_plist().get_nfilters() > 0
        room = stored * s.MAX_GZIP_RATIO if filtered else stored
        if declared > room:
            raise self.fail(f"damaged cache: '{name}' declares {obj.shape} ({declared:,} bytes) but the file holds "
                            f"{stored:,} bytes of it")

    def rows(self, obj: h5py.Dataset, expected: int, what: str) -> None:
        if obj.shape[0] != expected:
            raise self.fail(f"'{obj.name.lstrip('/')}' has {obj.shape[0]} rows but the cache has {expected} {what}")


_KIND_NAMES = {s.TEXT: "text", s.INTEGER: "integers", s.REAL: "floating-point numbers", s.UINT8: "uint8 pixels"}


def _is_kind(dtype: np.dtype, kind: str) -> bool:
    if kind == s.TEXT:
        return h5py.check_string_dtype(dtype) is not None
    if kind == s.INTEGER:
        return dtype.kind in "iu"
    if kind == s.REAL:
        return dtype.kind == "f"
    return dtype == np.uint8


def _dtype_name(dtype: np.dtype) -> str:
    if h5py.check_string_dtype(dtype) is not None:
        return "text"
    return str(dtype) if dtype.kind != "V" else "compound values"


def validate(path: Path, file: h5py.File, file_size: int) -> None:
    """Raise CacheError with one line unless ``file`` is a complete, consistent cache of this version."""
    c = Checker(path, file, file_size)
    attrs = file.attrs
    fmt = attr_text(attrs, s.ATTR_FORMAT, default="")
    if fmt != s.FORMAT_NAME:
        shown = repr(printable(fmt, 80)) if s.ATTR_FORMAT in attrs else "None"
        raise c.fail(f"not a blocks-tui cache (format attribute is {shown})")
    version = attr_int(attrs, s.ATTR_VERSION)
    if version is None or version < 1:
        raise c.fail(f"invalid cache format version {printable(attrs.get(s.ATTR_VERSION), 80)}")
    if version > s.FORMAT_VERSION:
        raise c.fail(f"cache format version {version} is newer than this blocks-tui reads ({s.FORMAT_VERSION}); "
                     "upgrade blocks-tui")
    if attr_int(attrs, s.ATTR_COMPLETE) != 1:
        raise c.fail(f"incomplete cache: {incomplete_reason(file)}")

    layout = s.DATASET_LAYOUT
    classes = c.group(s.CLASSES)
    n_classes = c.dataset(s.CLASS_NAMES, layout[s.CLASS_NAMES]).shape[0]
    if s.ATTR_COUNT in classes.attrs and attr_int(classes.attrs, s.ATTR_COUNT) != n_classes:
        raise c.fail(f"classes count attribute says {printable(classes.attrs.get(s.ATTR_COUNT), 80)} "
                     f"but '{s.CLASS_NAMES}' has {n_classes}")
    ids = c.dataset(s.CLASS_IDS, layout[s.CLASS_IDS], required=False)
    if ids is not None:
        c.rows(ids, n_classes, "classes")
    c.group(s.HIERARCHY)
    n_nodes = c.dataset(s.NODE_NAMES, layout[s.NODE_NAMES]).shape[0]
    parent = c.dataset(s.NODE_PARENT, layout[s.NODE_PARENT])
    class_index = c.dataset(s.NODE_CLASS, layout[s.NODE_CLASS])
    c.rows(parent, n_nodes, "hierarchy nodes")
    c.rows(class_index, n_nodes, "hierarchy nodes")
    problem = tree_arrays_problem(parent[()].astype(np.int64), class_index[()].astype(np.int64), n_classes)
    if problem:
        raise c.fail(f"invalid hierarchy: {problem}")

    c.group(s.SAMPLES)
    labels = c.dataset(s.SAMPLE_LABEL, layout[s.SAMPLE_LABEL])
    n = labels.shape[0]
    c.rows(c.dataset(s.SAMPLE_SOURCE, layout[s.SAMPLE_SOURCE]), n, "samples")
    thumbnails = c.dataset(s.SAMPLE_THUMBNAIL, layout[s.SAMPLE_THUMBNAIL])
    c.rows(thumbnails, n, "samples")
    if thumbnails.shape[3] != 3 or min(thumbnails.shape[1:3]) < 1:
        raise c.fail(f"damaged cache: '{s.SAMPLE_THUMBNAIL}' has shape {thumbnails.shape}, expected "
                     "(samples, height, width, 3)")
    values = labels[()]
    if n and (values.min() < 0 or values.max() >= n_classes):
        raise c.fail(f"'{s.SAMPLE_LABEL}' holds labels outside [0, {n_classes})")

    if c.group(s.SKIPPED, required=False) is not None:
        sources = c.dataset(s.SKIPPED_SOURCE, layout[s.SKIPPED_SOURCE])
        c.rows(c.dataset(s.SKIPPED_REASON, layout[s.SKIPPED_REASON]), sources.shape[0], "skipped inputs")

    _validate_results(c, n)
    if c.group(s.PROBES, required=False) is not None:
        split = c.dataset(s.PROBE_SPLIT, layout[s.PROBE_SPLIT])
        c.rows(split, n, "samples")
        folds = split[()]
        if folds.size and not np.isin(folds, (0, 1)).all():
            raise c.fail(f"'{s.PROBE_SPLIT}' holds folds other than 0 and 1")
    _validate_layers(c, n, n_classes)


def _validate_results(c: Checker, n: int) -> None:
    results = c.group(s.RESULTS)
    if not len(results):
        raise c.fail(f"no result sets under '{s.RESULTS}'")
    for name in results:
        base = f"{s.RESULTS}/{name}"
        c.group(base)
        found = {key: c.dataset(f"{base}/{key}", layout) for key, layout in s.RESULT_LAYOUT.items()}
        for obj in found.values():
            c.rows(obj, n, "samples")
        if found[s.TOPK_INDEX].shape != found[s.TOPK_PROB].shape:
            raise c.fail(f"'{base}/{s.TOPK_INDEX}' and '{base}/{s.TOPK_PROB}' differ in shape")
        if found[s.TOPK_INDEX].shape[1] < 1:
            raise c.fail(f"damaged cache: '{base}/{s.TOPK_INDEX}' has k = 0 predictions per sample")


def _validate_layers(c: Checker, n: int, n_classes: int) -> None:
    for name in c.group(s.LAYERS):
        base = f"{s.LAYERS}/{name}"
        group = c.group(base)
        mean = c.dataset(f"{base}/{s.CLASS_MEAN}", s.LAYER_LAYOUT[s.CLASS_MEAN])
        c.rows(mean, n_classes, "classes")
        _, channels, d, d2 = mean.shape
        if d != d2 or d < 1:
            raise c.fail(f"damaged cache: '{base}/{s.CLASS_MEAN}' has shape {mean.shape}, expected (classes, channels, d, d)")
        cells = attr_int(group.attrs, s.ATTR_CELLS)
        if s.ATTR_CELLS in group.attrs and cells != d:
            raise c.fail(f"damaged cache: '{base}' attribute d is {printable(group.attrs.get(s.ATTR_CELLS), 80)} "
                         f"but '{s.CLASS_MEAN}' has {d}x{d} cells")
        collective = c.dataset(f"{base}/{s.COLLECTIVE}", s.LAYER_LAYOUT[s.COLLECTIVE])
        c.rows(collective, n, "samples")
        if collective.shape[1:] != (channels,):
            raise c.fail(f"'{base}/{s.COLLECTIVE}' does not have {channels} channels")
        maps = c.dataset(f"{base}/{s.MAPS}", s.LAYER_LAYOUT[s.MAPS], required=False)
        if maps is not None:
            c.rows(maps, n, "samples")
            if maps.shape[1:] != (channels, d, d):
                raise c.fail(f"damaged cache: '{base}/{s.MAPS}' has shape {maps.shape}, expected "
                             f"(samples, {channels}, {d}, {d})")


def incomplete_reason(file: h5py.File) -> str:
    """'it got N of M samples; resume with ...' for a file its producer did not finish."""
    attrs = file.attrs
    done, total = attr_int(attrs, s.ATTR_PROGRESS_DONE), attr_int(attrs, s.ATTR_PROGRESS_TOTAL)
    hint = attr_text(attrs, s.ATTR_RESUME_HINT) or "run the command that made it again"
    got = f"it got {done} of {total} samples" if done is not None and total else "it stopped early"
    return f"{got}; resume with `{printable(hint)}`" if hint.startswith("blocks-tui") else f"{got}; {printable(hint)}"
