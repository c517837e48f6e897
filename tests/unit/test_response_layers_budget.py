"""Loaded response-map layers are kept under a memory budget (issue 17: every opened layer stayed for good)."""

from __future__ import annotations

import numpy as np

from blocks_tui.analysis.response_view import build_layer_view
from blocks_tui.tui.responses import ResponseState


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
