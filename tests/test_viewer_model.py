"""The viewer's state model on its own: no terminal, no Textual, every answer checked against brute force.

The Pilot tests drive the same model through key presses; these call it directly, so a wrong selection
is found in milliseconds and named by the method that made it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.cache import open_cache
from blocks_tui.tui.model import ViewerModel

from test_tui_pilot import ORIGINAL, write_viewer_cache

LABELS = np.repeat(np.arange(5), 6)
PREDICTED = np.array(ORIGINAL).ravel()
ANIMALS, VEHICLES = {0, 1}, {2, 3, 4}  # cat, dog | car, bus, van


@pytest.fixture
def model(tmp_path: Path):  # noqa: ANN201
    with open_cache(write_viewer_cache(tmp_path / "model.h5")) as cache:
        m = ViewerModel.open(cache)
        m.frame(20, 20, n_levels=8)  # room for one cell per class: no bins
        yield m


def node(m: ViewerModel, name: str) -> int:
    return list(m.display.names).index(name)


def test_opens_on_the_default_result_set_at_the_root(model: ViewerModel) -> None:
    assert model.filters.result == "original"
    assert model.zoom.breadcrumb() == ["all"] and model.zoom.window() == (0, 5)


def test_a_cell_selection_is_exactly_the_samples_its_count_counts(model: ViewerModel) -> None:
    for true in range(5):
        for predicted in range(5):
            if true == predicted:
                continue  # the diagonal is hidden by default
            model.focus_cell(true, predicted)
            selection = model.selections.cell(*model.cursor_bins())
            expected = np.flatnonzero((LABELS == true) & (PREDICTED == predicted))
            assert sorted(selection.ids.tolist()) == expected.tolist(), (true, predicted)
            info = model.cell_info(*model.cursor_bins())
            assert info.count == len(expected) and selection.title == f"{info.true} → {info.predicted}"


@pytest.mark.parametrize("part, rule", [
    (0, lambda t, p, g: t & p), (1, lambda t, p, g: t & ~p), (2, lambda t, p, g: ~t & p)])
def test_a_node_selection_is_its_true_positives_false_negatives_or_false_positives(model: ViewerModel, part,
                                                                                   rule) -> None:  # noqa: ANN001
    for name, group in (("animals", ANIMALS), ("vehicles", VEHICLES)):
        selection = model.selections.node(node(model, name), part)
        true, predicted = np.isin(LABELS, list(group)), np.isin(PREDICTED, list(group))
        assert sorted(selection.ids.tolist()) == np.flatnonzero(rule(true, predicted, group)).tolist(), name
        assert (selection.kind, selection.title, selection.tab) == ("node", name, part)
        counts = dict(selection.tabs)
        assert (counts["TP"], counts["FN"], counts["FP"]) == (
            int((true & predicted).sum()), int((true & ~predicted).sum()), int((~true & predicted).sum()))


def test_zooming_in_and_out_moves_the_window_and_the_breadcrumb(model: ViewerModel) -> None:
    model.focus_cell(3, 3)  # bus, inside vehicles
    assert model.zoom.into_cell(*model.cursor_bins()) is None
    assert model.zoom.breadcrumb() == ["all", "vehicles"] and model.zoom.window() == (2, 5)
    assert model.zoom.out() and model.zoom.breadcrumb() == ["all"]
    assert not model.zoom.out()  # already at the top
    model.frame(20, 20, n_levels=8)
    model.focus_cell(0, 3)  # cat → bus: between the blocks
    assert model.zoom.into_cell(*model.cursor_bins()) == "not on a diagonal block: Enter zooms into the block on the diagonal"


def test_outliers_are_the_pairs_across_groups(model: ViewerModel) -> None:
    across = {(int(t), int(p)) for t, p in zip(LABELS, PREDICTED)
              if t != p and ((t in ANIMALS) != (p in ANIMALS))}
    order = model.display.order  # outliers are display positions
    cells = model.outlier_steps.cells()
    assert cells and {(int(order[r]), int(order[c])) for r, c, _ in cells} <= across
    for r, c, n in cells:
        assert n == int(((LABELS == order[r]) & (PREDICTED == order[c])).sum())
    step = model.outlier_steps.step(1)
    r, c, n = cells[0]
    names = model.cache.class_names
    assert step is not None and (step.index, step.total) == (1, len(cells))
    assert (step.true, step.predicted, step.count) == (names[order[r]], names[order[c]], n)
    assert model.cursor == (r, c)  # n moves the matrix cursor there


def test_a_sample_selection_and_its_details(model: ViewerModel) -> None:
    sample = 16  # car, predicted bus
    assert model.predicted(sample) == 3
    selection = model.selections.sample(sample)
    assert selection.ids.tolist() == [sample]
    details = model.selections.details(sample)
    assert details.true == "car" and details.top[0][0] == "bus" and details.active == "original"
