"""The demo's training and evaluation splits, and its class tree in the cache's form.

Numpy and PIL only, so that both torch packages reach the demo's images
without importing each other: ``demo`` trains on them, and ``extract --data
demo`` and ``train --data demo`` (in ``extract``) read the same samples.
:class:`~blocks_tui.demo.pipeline.DemoConfig` adds the training settings to
the sizes here and is accepted wherever :class:`DemoSplits` is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..cache import HierarchyArrays
from .generator import LABEL_NOISE_RATE, DemoSpec, Split, default_spec, make_split


class SplitSizes(Protocol):
    """How many images of each class each split has, from which seed, with how much label noise."""

    @property
    def n_train_per_class(self) -> int: ...

    @property
    def n_eval_per_class(self) -> int: ...

    @property
    def seed(self) -> int: ...

    @property
    def label_noise(self) -> float: ...


@dataclass(frozen=True)
class DemoSplits:
    """The demo's own split sizes (what ``blocks-tui demo`` trains and evaluates on)."""

    n_train_per_class: int = 400
    n_eval_per_class: int = 100
    seed: int = 0
    label_noise: float = LABEL_NOISE_RATE


def _split_seed(sizes: SplitSizes, split: str) -> list[int]:
    return [sizes.seed, {"train": 0, "eval": 1}[split]]


def make_train_split(sizes: SplitSizes = DemoSplits(), spec: DemoSpec | None = None,
                     progress: Callable[[int], None] | None = None) -> Split:
    """The training split (clean labels)."""
    spec = spec or default_spec()
    return make_split(spec, sizes.n_train_per_class, _split_seed(sizes, "train"), 0.0, progress)


def make_eval_split(sizes: SplitSizes = DemoSplits(), spec: DemoSpec | None = None,
                    progress: Callable[[int], None] | None = None) -> Split:
    """The evaluation split (label noise included)."""
    spec = spec or default_spec()
    return make_split(spec, sizes.n_eval_per_class, _split_seed(sizes, "eval"), sizes.label_noise, progress)


def demo_eval_split(sizes: SplitSizes = DemoSplits()) -> tuple[np.ndarray, np.ndarray, list[str], HierarchyArrays]:
    """The evaluation images, stored labels, class names and hierarchy.

    For ``blocks-tui extract --data demo``, which runs any model (say, a demo
    checkpoint) over exactly the samples the demo cache holds.
    """
    spec = default_spec()
    split = make_eval_split(sizes, spec)
    return split.images, split.labels, spec.class_names, demo_hierarchy(spec)


def demo_hierarchy(spec: DemoSpec) -> HierarchyArrays:
    """The demo's class tree in the cache's form."""
    return HierarchyArrays(
        names=list(spec.node_names),
        parent=spec.parent.astype(np.int32),
        class_index=spec.class_index.astype(np.int32),
        source="demo",
    )
