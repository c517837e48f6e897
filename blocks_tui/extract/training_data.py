"""Training and evaluation images for ``blocks-tui train``, from the extract layer's loaders.

``demo`` is the demo's own data (the same evaluation split as the demo
cache; clean training labels), ``cifar100:PATH`` the Python-pickle
CIFAR-100 (``train`` to train, ``test`` to evaluate, superclasses as the
hierarchy) and ``imagefolder:PATH`` any ``PATH/<class>/<image>`` folder,
split deterministically: every fifth image of each class (in file order) is
held out for evaluation.  Nothing downloads.  All images are decoded once
into memory at ``image_size`` px (the CNN sees 32 px anyway), which is what
makes the training loop simple and fast at these sizes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import UsageError
from ..nn.training import LabelledImages
from .command import choose_hierarchy
from .datasets import BadImage, DataSource, _unpickle, open_data, stratified_subset
from .loader import thumbnail

TRAIN_KINDS = ("demo", "cifar100", "imagefolder")
THUMBNAIL_SIDE = 48
"""The cache's smallest allowed thumbnail: CIFAR's 32 px images are enlarged to it."""
HOLD_OUT_EVERY = 5


def load_labelled_images(
    spec: str,
    hierarchy: str = "auto",
    limit: int | None = None,
    eval_limit: int | None = None,
    image_size: int = 32,
) -> LabelledImages:
    """Parse ``demo``, ``cifar100:PATH`` or ``imagefolder:PATH`` and load both splits.

    ``limit`` / ``eval_limit`` keep a deterministic, class-stratified subset
    of the training / evaluation samples.  ``hierarchy`` is ``auto``, a
    JSON file or ``none``, as for ``extract``.
    """
    kind = spec.partition(":")[0]
    if kind not in TRAIN_KINDS:
        raise UsageError(f"train supports --data demo, cifar100:PATH or imagefolder:PATH, got {spec!r}")
    for name, value in (("--limit", limit), ("--eval-limit", eval_limit), ("--image-size", image_size)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1")
    if kind == "demo":
        if hierarchy not in ("auto", "demo"):
            raise UsageError("--data demo brings its own hierarchy; leave --hierarchy out")
        return _demo(limit, eval_limit)
    data = open_data(spec)  # the evaluation split for CIFAR, everything for an image folder
    names = data.class_names
    tree = choose_hierarchy(hierarchy, data, names)
    if kind == "cifar100":
        train = _unpickle(Path(data.root) / "train", ("data", "fine_labels"))
        train_images = np.asarray(train["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        train_labels = np.asarray(train["fine_labels"], dtype=np.int64)
        eval_data = data
    else:
        held_out = _held_out(data.labels)
        train_source = data.subset(np.flatnonzero(~held_out))
        eval_data = data.subset(np.flatnonzero(held_out))
        train_images, train_labels, _ = _decode(train_source, image_size)
    train_images, train_labels = _limited(train_images, train_labels, limit)
    if eval_limit is not None:
        eval_data = eval_data.subset(stratified_subset(eval_data.labels, eval_limit))
    eval_images, eval_labels, kept = _decode(eval_data, image_size)
    thumbs = np.stack([thumbnail(Image.fromarray(im), THUMBNAIL_SIDE) for im in eval_images])
    return LabelledImages(np.ascontiguousarray(train_images), train_labels, eval_images, eval_labels,
                          [eval_data.sources[i] for i in kept], thumbs, names, data.class_ids, tree, spec)


def _demo(limit: int | None, eval_limit: int | None) -> LabelledImages:
    """The demo's splits; limits shrink the per-class counts before rendering (no wasted images)."""
    from ..synthetic.demo_data import DemoSplits, demo_hierarchy, make_eval_split, make_train_split
    from ..synthetic.generator import default_spec, ground_truth

    spec = default_spec()
    base = DemoSplits()
    per_class = lambda n, default: default if n is None else math.ceil(n / spec.n_classes)  # noqa: E731
    config = DemoSplits(n_train_per_class=per_class(limit, base.n_train_per_class),
                        n_eval_per_class=per_class(eval_limit, base.n_eval_per_class))
    train = make_train_split(config, spec)
    evaluation = make_eval_split(config, spec)
    train_images, train_labels = _limited(train.images, train.labels, limit)
    keep = np.arange(len(evaluation)) if eval_limit is None else stratified_subset(evaluation.labels, eval_limit)
    truth = ground_truth(spec, evaluation) if eval_limit is None else None
    return LabelledImages(
        train_images, train_labels, evaluation.images[keep], evaluation.labels[keep],
        [f"demo:eval/{i:06d}" for i in keep], evaluation.images[keep], spec.class_names, None, demo_hierarchy(spec),
        "demo", truth,
    )


def _limited(images: np.ndarray, labels: np.ndarray, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    if limit is None or limit >= len(labels):
        return images, np.asarray(labels, dtype=np.int64)
    keep = stratified_subset(labels, limit)
    return images[keep], np.asarray(labels, dtype=np.int64)[keep]


def _held_out(labels: np.ndarray) -> np.ndarray:
    """Every ``HOLD_OUT_EVERY``-th sample of each class, in file order (the 5th, 10th, ...)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    rank = np.arange(len(labels)) - np.searchsorted(sorted_labels, sorted_labels, side="left")
    held = np.zeros(len(labels), dtype=bool)
    held[order] = rank % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
    return held


def _decode(data: DataSource, side: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Every readable sample as a ``side`` px square (shorter side resized, centre crop), its
    label and its index in ``data``: unreadable files are skipped, as ``extract`` skips them."""
    images, kept = [], []
    for i in range(len(data)):
        try:
            image = data.load(i)
        except BadImage:
            continue
        images.append(np.asarray(image) if image.size == (side, side) else thumbnail(image, side))
        kept.append(i)
    if not images:
        raise UsageError(f"{data.kind}:{data.root}: no readable images")
    return np.stack(images), np.asarray(data.labels[kept], dtype=np.int64), kept

