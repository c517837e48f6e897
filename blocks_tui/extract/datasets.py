"""Data sets for ``blocks-tui extract``: discovery, subsets, and robust image loading.

A :class:`DataSource` is an indexable list of samples (source id, label) plus
the class names, ids and the hierarchy the data set implies.  Discovery never
decodes images: bad files are found when loaded, and the extractor skips,
counts and records them instead of crashing.  No torch here, so discovery
and loading are cheap to test.

Kinds: ``imagefolder:PATH`` (``PATH/<class>/<image>``; WordNet-id folder names
get WordNet names and hierarchy), ``imagenet:PATH`` (torchvision's layout,
``PATH/val/<wnid>/*``), ``cifar10:PATH``, ``cifar100:PATH`` (the Python
pickles; CIFAR-100's ``coarse_labels`` give a two-level hierarchy) and
``demo`` (the synthetic evaluation split).
"""

from __future__ import annotations

import hashlib
import pickle
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..cache import HierarchyArrays
from ..errors import UsageError
from ..safe_text import printable
from .hierarchies import cifar100_hierarchy, wordnet_hierarchy, wordnet_names

KINDS = ("imagefolder", "imagenet", "cifar10", "cifar100", "demo")
WNID = re.compile(r"^n\d{8}$")
ALPHA_BACKGROUND = (255, 255, 255)
"""Transparent pixels are composited onto white, as an image viewer shows them."""


class BadImage(Exception):
    """A sample that is not a readable image; the extractor skips and records it."""


@dataclass
class DataSource:
    """Samples of one data set, in a deterministic order."""

    kind: str
    root: str
    class_names: list[str]
    class_ids: list[str] | None
    sources: list[str]
    labels: np.ndarray  # (N,) int64
    hierarchy: HierarchyArrays | None  # what ``--hierarchy auto`` uses
    _load: Callable[[int], Image.Image] = field(repr=False)
    stamps: list[str] = field(default_factory=list, repr=False)
    """Per sample, what changes when its content does: a file's size and modification time, or a
    hash of in-memory pixels.  Resuming an extraction compares them, so edited data is never mixed in."""

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, index: int) -> Image.Image:
        """Sample ``index`` as an RGB image; raises :class:`BadImage` with a reason."""
        return self._load(index)

    def subset(self, indices: np.ndarray) -> "DataSource":
        """The samples at ``indices``, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        base = self._load
        return DataSource(
            self.kind, self.root, self.class_names, self.class_ids,
            [self.sources[i] for i in indices], self.labels[indices], self.hierarchy,
            lambda i: base(int(indices[i])), [self.stamps[i] for i in indices] if self.stamps else [],
        )

    def digest(self, order: np.ndarray) -> str:
        """SHA-256 of the samples in ``order``: source, label and content stamp of each."""
        h = hashlib.sha256()
        for i in order:
            stamp = self.stamps[i] if self.stamps else ""
            h.update(f"{self.sources[i]}\t{int(self.labels[i])}\t{stamp}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def stratified_subset(labels: np.ndarray, limit: int) -> np.ndarray:
    """``limit`` sample indices spread evenly over the classes, deterministically.

    Takes the first sample of every class, then the second, and so on, so a
    quick check with ``--limit`` still sees every class; returns them sorted.
    """
    if limit <= 0:
        raise UsageError("--limit must be positive")
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    first = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.arange(len(labels)) - first  # position within its class
    pick = order[np.lexsort((sorted_labels, rank))][:limit]
    return np.sort(pick)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB: grayscale, CMYK, 16-bit, palette and alpha images."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1.0)
        gray = np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_image_file(path: Path) -> Image.Image:
    """Decode ``path`` fully into RGB, or raise :class:`BadImage` saying why."""
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb(image)
    except UnidentifiedImageError:
        raise BadImage("not an image") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage(f"unreadable: {exc}") from None


def open_data(spec: str, download: bool = False, limit: int | None = None, demo_split: Callable[[], tuple] | None = None) -> DataSource:
    """Parse ``KIND:PATH`` (or ``demo``) and discover the samples.

    Fails fast with one line on an unknown kind, a missing path or an empty
    data set.  ``demo_split`` supplies the demo's (images, labels, class
    names, hierarchy) and is only called for ``demo``.
    """
    kind, _, root = spec.partition(":")
    if kind not in KINDS:
        raise UsageError(f"unknown data set {spec!r}; use imagefolder:PATH, imagenet:PATH, cifar10:PATH, cifar100:PATH or demo")
    if kind == "demo":
        if demo_split is None:
            raise UsageError("the demo data set is not available here")
        images, labels, names, hierarchy = demo_split()
        source = _in_memory("demo", "", images, np.asarray(labels), list(names), None, hierarchy, "demo:eval")
    else:
        if not root:
            raise UsageError(f"{kind} needs a path: {kind}:PATH")
        path = Path(root).expanduser()
        if download and kind in ("cifar10", "cifar100"):
            _download_cifar(kind, path)
        if not path.exists():
            raise UsageError(f"{path}: no such folder")
        if kind == "imagefolder":
            source = _image_folder(path, kind)
        elif kind == "imagenet":
            val = path / "val"
            if not val.is_dir():
                raise UsageError(f"{path}: expected torchvision's ImageNet layout with {val}/<wnid>/<image>")
            source = _image_folder(val, kind)
        else:
            source = _cifar(kind, path)
    if len(source) == 0:
        raise UsageError(f"{spec}: the data set is empty")
    if limit is not None:
        source = source.subset(stratified_subset(source.labels, limit))
    return source


def _image_folder(path: Path, kind: str) -> DataSource:
    if not path.is_dir():
        raise UsageError(f"{path}: not a folder")
    class_dirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise UsageError(f"{path}: no class folders (expected {path}/<class>/<image>)")
    files: list[Path] = []
    labels: list[int] = []
    stamps: list[str] = []
    for label, folder in enumerate(class_dirs):
        for file in sorted(folder.rglob("*")):
            if file.name.startswith("."):
                continue
            try:
                info = file.stat()  # the one stat is_file() would make anyway
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                files.append(file)
                labels.append(label)
                stamps.append(f"{info.st_size}:{info.st_mtime_ns}")
    if not files:
        raise UsageError(f"{path}: no image files under its {len(class_dirs)} class folders")
    folder_names = [d.name for d in class_dirs]
    class_ids: list[str] | None = None
    hierarchy: HierarchyArrays | None = None
    names = folder_names
    if all(WNID.match(n) for n in folder_names):
        class_ids = folder_names
        try:
            names = wordnet_names(folder_names)
            hierarchy = wordnet_hierarchy(folder_names)
        except UsageError:
            names, hierarchy = folder_names, None  # unknown synsets: keep the ids, no hierarchy
    return DataSource(
        kind, str(path), names, class_ids, [str(f) for f in files], np.asarray(labels, dtype=np.int64),
        hierarchy, lambda i: load_image_file(files[i]), stamps,
    )


def _in_memory(kind: str, root: str, images: np.ndarray, labels: np.ndarray, names: list[str],
               class_ids: list[str] | None, hierarchy: HierarchyArrays | None, prefix: str) -> DataSource:
    return DataSource(
        kind, root, names, class_ids, [f"{prefix}/{i:06d}" for i in range(len(labels))],
        labels.astype(np.int64), hierarchy, lambda i: Image.fromarray(images[i], "RGB"),
        [hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest() for image in images],
    )


_CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


_CIFAR_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "bytearray"), ("builtins", "set"), ("builtins", "frozenset"),
})
"""Everything a CIFAR pickle refers to (arrays, their dtypes, the containers around them), under
Python 2 and 3 and numpy 1 and 2.  Anything else (``os.system``, ``builtins.exec``, a class with a
``__reduce__``) could run code, and a data file never needs it."""
_LATIN1 = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1"})


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes, and nothing more."""
    if encoding.lower() not in _LATIN1:
        raise pickle.UnpicklingError(f"the pickle asks for the {encoding!r} codec")
    return text.encode("latin1")


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only the builtins and numpy types of the CIFAR format."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        if (module, name) in _CIFAR_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which no CIFAR file does (refused: "
                                     "unpickling it could run code)")


def _unpickle(path: Path, keys: tuple[str, ...] = ()) -> dict:
    """A CIFAR pickle as a dict with ``keys``, through :class:`_CifarUnpickler`: a crafted file is refused, never run."""
    shown = printable(path)
    try:
        with open(path, "rb") as f:
            content = _CifarUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise UsageError(f"{shown}: missing (is this the {printable(path.parent.name)} folder from the CIFAR tarball?)") from None
    except IsADirectoryError:
        raise UsageError(f"{shown}: a folder, not a CIFAR pickle") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError, KeyError, OverflowError, MemoryError) as exc:
        raise UsageError(f"{shown}: not a CIFAR pickle ({printable(exc, 200)})") from None
    if not isinstance(content, dict):
        raise UsageError(f"{shown}: not a CIFAR pickle (holds a {type(content).__name__}, not a dict)")
    missing = [key for key in keys if key not in content]
    if missing:
        raise UsageError(f"{shown}: not a CIFAR pickle (no {', '.join(map(repr, missing))})")
    return content


def _cifar(kind: str, path: Path) -> DataSource:
    folder = path / _CIFAR_FOLDERS[kind] if (path / _CIFAR_FOLDERS[kind]).is_dir() else path
    if kind == "cifar10":
        batch = _unpickle(folder / "test_batch", ("data", "labels"))
        names = [str(n) for n in _unpickle(folder / "batches.meta", ("label_names",))["label_names"]]
        images, labels = _cifar_arrays(folder, batch, "labels", len(names))
        hierarchy = None
    else:
        batch = _unpickle(folder / "test", ("data", "fine_labels", "coarse_labels"))
        meta = _unpickle(folder / "meta", ("fine_label_names", "coarse_label_names"))
        names = [str(n) for n in meta["fine_label_names"]]
        coarse_names = [str(n) for n in meta["coarse_label_names"]]
        images, labels = _cifar_arrays(folder, batch, "fine_labels", len(names))
        _, coarse = _cifar_arrays(folder, batch, "coarse_labels", len(coarse_names))
        coarse_of_fine = np.full(len(names), -1)
        coarse_of_fine[labels] = coarse
        if (coarse_of_fine < 0).any():
            raise UsageError(f"{printable(folder)}: some classes have no test samples, so their superclass is unknown")
        hierarchy = cifar100_hierarchy(names, coarse_names, coarse_of_fine.tolist())
    return _in_memory(kind, str(folder), images, labels, names, None, hierarchy, f"{kind}:test")


def _cifar_arrays(folder: Path, batch: dict, label_key: str, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 32, 32, 3) uint8 images and (N,) labels, checked, so a malformed file fails with one line."""
    try:
        flat = np.asarray(batch["data"], dtype=np.uint8)
        images = np.ascontiguousarray(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
    except (ValueError, TypeError, OverflowError) as exc:
        raise UsageError(f"{printable(folder)}: not CIFAR data ({printable(exc, 200)})") from None
    if len(images) != len(labels):
        raise UsageError(f"{printable(folder)}: {len(images)} images but {len(labels)} {label_key}")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise UsageError(f"{printable(folder)}: {label_key} must lie in [0, {n_classes})")
    return images, labels


def _download_cifar(kind: str, path: Path) -> None:
    """Fetch CIFAR through torchvision, only when ``--download`` asks for it."""
    from torchvision import datasets  # torch is fine here: extract is the torch layer

    cls = datasets.CIFAR10 if kind == "cifar10" else datasets.CIFAR100
    try:
        cls(str(path), train=False, download=True)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise UsageError(f"could not download {kind} into {path}: {exc}") from None
