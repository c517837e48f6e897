"""The sample pane's right/wrong filter across every result set, or a chosen few (paper §3.4), on the demo:
its nine result sets are the final model, six earlier epochs, grayscale and rot90."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from textual.pilot import Pilot

from blocks_tui.cache import open_cache
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.screens.result_sets import ResultSetsDialog, SetPicker
from blocks_tui.tui.selection_flow import SelectionFlow

from viewer_harness import run_app


def _right(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    with open_cache(path) as cache:
        names = list(cache.result_names)
        return names, {n: cache.result(n).predicted == cache.labels for n in names}


async def _to_filter(app: BlocksApp, pilot: Pilot, mode: str) -> None:
    for _ in range(10):
        if app.model.selections.outcome_filter == mode:
            return
        await pilot.press("x")
    raise AssertionError(f"x never reached {mode}")


def test_x_filters_by_outcome_across_every_result_set_and_x_chooses_them(demo_cache: Path) -> None:
    names, right = _right(demo_cache)
    assert len(names) >= 4 and names[0] == "original"
    epochs = [n for n in names if n.startswith("epoch-")]

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("slash", *"plants", "enter")  # the tree on plants, its TP in the pane
        await pilot.press("w", "w")
        await pilot.pause(3 * SelectionFlow.PANE_DELAY)
        tp = app.selection.ids.copy()
        assert app.selection.kind == "node" and len(tp) > 100
        modes = app.model.selections.outcome_sets().modes()
        assert modes[-4:] == ["right-in-all", "wrong-in-all", "right-only-here", "wrong-only-here"]

        await _to_filter(app, pilot, "right-in-all")
        every = np.logical_and.reduce([right[n] for n in names])
        assert np.array_equal(app.selection.ids, tp[every[tp]])
        assert f"right in all {len(names)} result sets" in app.selection.title
        await _to_filter(app, pilot, "wrong-only-here")  # wrong in the final model, right in every other set
        others = np.logical_and.reduce([right[n] for n in names[1:]])
        want = tp[~right["original"][tp] & others[tp]]
        assert np.array_equal(app.selection.ids, want)

        await pilot.press("X")  # choose the final model and its epochs only: untick grayscale and rot90
        assert isinstance(app.screen, ResultSetsDialog)
        picker = app.screen.query_one(SetPicker)
        for name in ("grayscale", "rot90"):
            picker.highlighted = names.index(name)
            await pilot.press("space")
        await pilot.press("enter")
        assert not isinstance(app.screen, ResultSetsDialog)
        assert app.model.selections.chosen_sets == ("original", *epochs)
        training = np.logical_and.reduce([right[n] for n in epochs])
        assert np.array_equal(app.selection.ids, tp[~right["original"][tp] & training[tp]])
        assert f"of {len(epochs) + 1} chosen result sets" in app.selection.title

        await _to_filter(app, pilot, "right-only-here")  # what the final model alone gets right
        assert np.array_equal(app.selection.ids,
                              tp[right["original"][tp] & ~np.logical_or.reduce([right[n][tp] for n in epochs])])
        await pilot.press("X", "escape")  # Escape keeps the choice
        assert app.model.selections.chosen_sets == ("original", *epochs)
        await pilot.press("X", "a", "enter")  # a: every set again
        assert app.model.selections.chosen_sets is None

    run_app(demo_cache, script, size=(120, 40))


def test_with_one_result_set_x_and_x_say_there_is_nothing_to_compare(tmp_path: Path) -> None:
    from blocks_tui.cache import CacheWriter

    from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT
    from viewer_harness import ORIGINAL, fake_topk

    labels = np.repeat(np.arange(5), 6)
    path = tmp_path / "one.h5"
    with CacheWriter(path, config={}) as w:
        w.write_classes(TINY_CLASSES)
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        w.write_samples(labels, [f"s{i}" for i in range(30)], np.zeros((30, 48, 48, 3), dtype=np.uint8))
        w.write_result_set("original", *fake_topk(np.array(ORIGINAL).ravel(), labels, 0.95))

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("W", "w", "w")  # tree, matrix, samples
        assert app.focused is app.samples.grid
        for key in ("x", "X"):
            await pilot.press(key)
            assert "only one result set" in str(app.status.render())
            assert not isinstance(app.screen, ResultSetsDialog) and app.model.selections.outcome_filter == "all"

    run_app(path, script, size=(120, 40))
