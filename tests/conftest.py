"""Shared fixtures: small but real cache files written through the real writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blocks_tui.cache import CacheWriter

# A hand-checkable tree:  all -> {animals -> {cat, dog}, vehicles -> {car, bus, van}}
TINY_NODE_NAMES = ["all", "animals", "cat", "dog", "vehicles", "car", "bus", "van"]
TINY_PARENT = np.array([-1, 0, 1, 1, 0, 4, 4, 4])
TINY_CLASS_INDEX = np.array([-1, -1, 0, 1, -1, 2, 3, 4])
TINY_CLASSES = ["cat", "dog", "car", "bus", "van"]


def write_tiny_cache(path: Path, n_per_class: int = 4, seed: int = 0, **extra: Any) -> Path:
    """A complete five-class cache with two result sets and one layer."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(5), n_per_class)
    n = len(labels)
    with CacheWriter(path, config={"model": "tiny", "dataset": "unit-test", "seed": seed}) as w:
        w.write_classes(TINY_CLASSES, ids=[f"id{i}" for i in range(5)])
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        thumbs = rng.integers(0, 256, size=(n, 48, 48, 3), dtype=np.uint8)
        w.write_samples(labels, [f"img/{i:03d}.png" for i in range(n)], thumbs)
        for name in ("original", "grayscale"):
            logits = rng.normal(size=(n, 5))
            logits[np.arange(n), labels] += 3.0
            probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            order = np.argsort(-probs, axis=1)
            w.write_result_set(
                name, order, np.take_along_axis(probs, order, 1), probs[np.arange(n), labels],
                attrs={"transform": name},
            )
        w.write_layer(
            "stage1",
            rng.random((5, 8, 2, 2), dtype=np.float32),
            rng.random((n, 8)).astype(np.float16),
            output_shape=(1, 8, 16, 16),
        )
        if extra.get("ground_truth"):
            w.write_ground_truth(extra["ground_truth"])
    return path


@pytest.fixture
def tiny_cache(tmp_path: Path) -> Path:
    return write_tiny_cache(tmp_path / "tiny.h5")


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's fast configuration, trained once per test session (tens of seconds)."""
    from blocks_tui.demo.pipeline import DemoConfig, build_demo_cache

    folder = tmp_path_factory.mktemp("demo")
    return build_demo_cache(folder / "demo.h5", DemoConfig.fast(), progress=False)
