"""The viewer's test harness: a five-class cache with known confusions, and running the app on a cache.

Shared by the Pilot tests (tests/functional) and the model's own tests (tests/unit).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable

import numpy as np
from textual.pilot import Pilot

from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.keymap import LoadedKeymap
from blocks_tui.tui.layer_budget import LAYER_BUDGET
from blocks_tui.tui.model import ViewerModel

from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT

# Predictions per class (6 samples each), in class order cat, dog, car, bus, van.  Positions in the
# tree order are the same: animals = {cat, dog} = positions 0-1, vehicles = {car, bus, van} = 2-4.
ORIGINAL = [[0, 0, 0, 0, 1, 1], [1, 1, 1, 1, 1, 0], [2, 2, 2, 3, 3, 0], [3, 3, 3, 3, 4, 2], [4, 4, 4, 4, 4, 1]]
GRAYSCALE = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [2, 2, 3, 3, 3, 3], [3, 3, 2, 2, 4, 4], [4, 4, 4, 3, 3, 3]]
SIZE = (100, 30)


def fake_topk(predicted: np.ndarray, labels: np.ndarray, confident: float) -> tuple[np.ndarray, ...]:
    """Top-5 classes and probabilities with ``predicted`` first (top-1 from 0.45 up to ``confident``)."""
    n = len(predicted)
    index = np.array([[p] + [c for c in range(5) if c != p] for p in predicted])
    prob = np.tile(np.array([confident, 0.1, 0.05, 0.03, 0.02], dtype=np.float32), (n, 1))
    prob[:, 0] = np.linspace(0.45, confident, n)  # top-1 probabilities from 0.45 up
    true_prob = prob[np.arange(n), np.argmax(index == labels[:, None], axis=1)]
    return index, prob, true_prob


def write_viewer_cache(path: Path) -> Path:
    """Five classes, two result sets, confusions inside the groups and two across them (the outliers)."""
    labels = np.repeat(np.arange(5), 6)
    with CacheWriter(path, config={"model": "pilot", "dataset": "pilot"}) as w:
        w.write_classes(TINY_CLASSES)
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        w.write_samples(labels, [f"s{i}" for i in range(30)], np.zeros((30, 48, 48, 3), dtype=np.uint8))
        for name, rows in (("original", ORIGINAL), ("grayscale", GRAYSCALE)):
            w.write_result_set(name, *fake_topk(np.array(rows).ravel(), labels, 0.95))
        w.write_layer("stage1", np.zeros((5, 2, 1, 1), np.float32), np.zeros((30, 2), np.float16), (1, 2, 4, 4))
    return path


def run_app(path: Path, script: Callable[[BlocksApp, Pilot], Awaitable[None]], size: tuple[int, int] = SIZE,
            keys: dict[str, str] | None = None, layer_budget: int = LAYER_BUDGET) -> None:
    """Run the viewer headless on ``path`` and hand it to ``script``; no user keymap is read."""

    async def main() -> None:
        with open_cache(path) as cache:
            app = BlocksApp(ViewerModel.open(cache), keymap=LoadedKeymap(Path("none.toml"), keys=keys or {}),
                            layer_budget=layer_budget)
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                await script(app, pilot)

    asyncio.run(main())


async def settle(app: BlocksApp, pilot: Pilot) -> None:
    """Wait for running workers and the messages they post."""
    for _ in range(200):
        await pilot.pause()
        if not app.busy:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("a worker did not finish")
