"""Loaded response-map layers are kept under a memory budget (issue 17: every opened layer stayed for good)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blocks_tui.analysis.response_view import build_layer_view
from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.tui.layer_budget import LAYER_BUDGET
from blocks_tui.tui.responses import ResponseState, layer_bytes, load_layer


def _view(name: str, channels: int, samples: int = 600, classes: int = 6) -> object:
    rng = np.random.default_rng(channels)
    labels = np.arange(samples) % classes
    class_mean = rng.random((classes, channels, 2, 2)).astype(np.float32)
    collective = rng.random((samples, channels)).astype(np.float16)
    return build_layer_view(name, class_mean, collective, labels, classes)


def test_the_least_recently_loaded_layers_go_first_and_the_current_one_stays() -> None:
    state = ResponseState(["a", "b", "c", "d"])
    views = {name: _view(name, 64) for name in "abcd"}
    one = views["a"].nbytes
    assert one > 600 * 64 * 2  # the responses and their sorted keys, at least
    budget = int(2.5 * one)  # room for two layers
    for i, name in enumerate("abcd"):
        state.layer = i
        dropped = state.remember(views[name], budget)
        assert name in state.views and sum(v.nbytes for v in state.views.values()) <= budget
    assert list(state.views) == ["c", "d"] and dropped == ["b"]
    state.layer = 2
    state.remember(views["c"], budget)  # shown again: now the most recent
    assert list(state.views) == ["d", "c"]
    state.layer = 0
    assert state.remember(views["a"], budget) == ["d"] and list(state.views) == ["c", "a"]
    huge = _view("b", 64)
    state.layer = 1
    assert state.remember(huge, budget=1) == ["c", "a"] and list(state.views) == ["b"]  # never the current


def test_room_is_made_before_a_load_so_two_full_budgets_are_never_held() -> None:
    views = {name: _view(name, 64) for name in "abc"}
    one = views["a"].nbytes
    state = ResponseState(["a", "b", "c"], budget=int(2.5 * one))
    for i, name in enumerate("ab"):
        state.layer = i
        state.remember(views[name])
    assert list(state.views) == ["a", "b"]
    assert state.make_room(one) == ["a"] and list(state.views) == ["b"]  # b and the new one fit; a goes
    assert state.make_room(one // 2) == [] and list(state.views) == ["b"]
    assert state.make_room(3 * one) == ["b"] and not state.views  # a layer as big as the budget: alone


def test_the_size_of_a_layer_is_known_before_it_is_read(tmp_path: Path) -> None:
    """What make_room reserves is what load_layer then holds, for a layer that fits and one that does not."""
    labels = np.arange(600) % 6
    rng = np.random.default_rng(3)
    with CacheWriter(tmp_path / "c.h5", config={}) as w:
        names = [f"k{i}" for i in range(6)]
        w.write_classes(names)
        w.write_hierarchy(["all", *names], np.array([-1] + [0] * 6), np.array([-1, *range(6)]), source="file")
        w.write_samples(labels, [f"s{i}" for i in range(600)], np.zeros((600, 48, 48, 3), np.uint8))
        topk = np.stack([(labels + i) % 6 for i in range(5)], axis=1)
        w.write_result_set("original", topk, np.full(topk.shape, 0.5), np.full(600, 0.5))
        w.write_layer("conv", rng.random((6, 32, 2, 2)), rng.random((600, 32)).astype(np.float16), (1, 32, 4, 4))
    with open_cache(tmp_path / "c.h5") as cache:
        layer = cache.layer("conv")
        for budget in (LAYER_BUDGET, layer_bytes(layer, 6, 600, LAYER_BUDGET) // 3):
            view = load_layer(cache, "conv", 6, budget)
            expected = layer_bytes(layer, 6, 600, budget)
            assert abs(view.nbytes - expected) <= 0.05 * expected
        assert view.rows is not None  # the second budget did not fit the whole layer
