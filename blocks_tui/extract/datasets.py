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

import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..cache import HierarchyArrays
from ..errors import UsageError
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
            lambda i: base(int(indices[i])),
        )


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
    for label, folder in enumerate(class_dirs):
        for file in sorted(folder.rglob("*")):
            if file.is_file() and not file.name.startswith("."):
                files.append(file)
                labels.append(label)
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
        hierarchy, lambda i: load_image_file(files[i]),
    )


def _in_memory(kind: str, root: str, images: np.ndarray, labels: np.ndarray, names: list[str],
               class_ids: list[str] | None, hierarchy: HierarchyArrays | None, prefix: str) -> DataSource:
    return DataSource(
        kind, root, names, class_ids, [f"{prefix}/{i:06d}" for i in range(len(labels))],
        labels.astype(np.int64), hierarchy, lambda i: Image.fromarray(images[i], "RGB"),
    )


_CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except FileNotFoundError:
        raise UsageError(f"{path}: missing (is this the {path.parent.name} folder from the CIFAR tarball?)") from None
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise UsageError(f"{path}: not a CIFAR pickle ({exc})") from None


def _cifar(kind: str, path: Path) -> DataSource:
    folder = path / _CIFAR_FOLDERS[kind] if (path / _CIFAR_FOLDERS[kind]).is_dir() else path
    if kind == "cifar10":
        batch = _unpickle(folder / "test_batch")
        names = list(_unpickle(folder / "batches.meta")["label_names"])
        labels = np.asarray(batch["labels"])
        hierarchy = None
    else:
        batch = _unpickle(folder / "test")
        meta = _unpickle(folder / "meta")
        names = list(meta["fine_label_names"])
        labels = np.asarray(batch["fine_labels"])
        coarse = np.asarray(batch["coarse_labels"])
        coarse_of_fine = np.full(len(names), -1)
        coarse_of_fine[labels] = coarse
        if (coarse_of_fine < 0).any():
            raise UsageError(f"{folder}: some classes have no test samples, so their superclass is unknown")
        hierarchy = cifar100_hierarchy(names, list(meta["coarse_label_names"]), coarse_of_fine.tolist())
    images = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    if len(images) != len(labels):
        raise UsageError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return _in_memory(kind, str(folder), np.ascontiguousarray(images), labels, names, None, hierarchy, f"{kind}:test")


def _download_cifar(kind: str, path: Path) -> None:
    """Fetch CIFAR through torchvision, only when ``--download`` asks for it."""
    from torchvision import datasets  # torch is fine here: extract is the torch layer

    cls = datasets.CIFAR10 if kind == "cifar10" else datasets.CIFAR100
    try:
        cls(str(path), train=False, download=True)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise UsageError(f"could not download {kind} into {path}: {exc}") from None
