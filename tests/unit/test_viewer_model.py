"""The viewer's state model on its own: no terminal, no Textual, every answer checked against brute force.

The Pilot tests drive the same model through key presses; these call it directly, so a wrong selection
is found in milliseconds and named by the method that made it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from blocks_tui.cache import open_cache
from blocks_tui.analysis.metrics import group_metrics
from blocks_tui.analysis.similarity import cells_similarity
from blocks_tui.tui.jobs import compute_sample_data, compute_seriation
from blocks_tui.tui.model import ViewerModel

from viewer_harness import GRAYSCALE, ORIGINAL, write_viewer_cache

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
    assert model.zoom.into_cell(*model.cursor_bins()).startswith("cat and bus meet only in all, no smaller block")


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


def test_cell_filters_hide_the_diagonal_and_small_counts_without_a_pass(model: ViewerModel) -> None:
    brute = np.zeros((5, 5), dtype=np.int64)
    np.add.at(brute, (LABELS, PREDICTED), 1)
    assert not model.filters.diagonal and np.trace(model.shown.dense()) == 0  # hidden by default
    model.set_cell_filters(diagonal=True)
    assert np.array_equal(model.shown.dense(), brute)
    model.set_cell_filters(min_count=2)
    assert np.array_equal(model.shown.dense(), np.where(brute >= 2, brute, 0))
    assert np.array_equal(model.counts.dense(), brute)  # the counts stay: only what is drawn changes


def test_a_hidden_diagonal_count_follows_the_result_set(model: ViewerModel) -> None:
    """The count under a resting cursor is kept between frames; a new pass over samples must replace it."""
    model.focus_cell(0, 0)
    model.frame(20, 20, n_levels=8)
    before = model.cell_info(*model.cursor_bins()).count
    assert before == int(((LABELS == 0) & (PREDICTED == 0)).sum())
    model.apply_sample_data(compute_sample_data(model.cache, replace(model.filters, top_k=1)))  # errors only
    model.frame(20, 20, n_levels=8)
    assert model.cell_info(*model.cursor_bins()).count == 0  # no right answers are kept: none on the diagonal


def test_a_sample_pass_with_filters_and_another_result_set(model: ViewerModel) -> None:
    gray = np.array(GRAYSCALE).ravel()
    wanted = replace(model.filters, result="grayscale", compare="original", top_k=None)
    model.apply_sample_data(compute_sample_data(model.cache, wanted))
    brute = np.zeros((5, 5), dtype=np.int64)
    np.add.at(brute, (LABELS, gray), 1)
    assert model.filters.result == "grayscale" and np.array_equal(model.counts.dense(), brute)
    assert model.kept == len(LABELS)
    animals = node(model, "animals")
    f1 = float(model.metric_values()[animals])
    in_group, hit = np.isin(LABELS, list(ANIMALS)), np.isin(gray, list(ANIMALS))
    f1_by_hand = 2 * (in_group & hit).sum() / (in_group.sum() + hit.sum())
    assert f1 == pytest.approx(f1_by_hand)  # the default metric, F1, of the group under grayscale
    model.set_metric("recall", delta=True)  # grayscale against original
    original_recall = (np.isin(PREDICTED, list(ANIMALS)) & in_group).sum() / in_group.sum()
    assert model.metric_values()[animals] == pytest.approx((in_group & hit).sum() / in_group.sum() - original_recall)


def test_a_partition_draws_blocks_that_zoom_and_outliers_follow(model: ViewerModel) -> None:
    model.zoom.partition([(0, 3), (3, 5)])  # relative to the window: the whole tree
    assert model.zoom.blocks() == [(0, 3), (3, 5)]
    assert model.zoom.into_block(0) is None
    assert model.zoom.breadcrumb() == ["all", "block 1"] and model.zoom.window() == (0, 3)
    assert model.zoom.seriation_target() is None  # a block is no node: nothing to seriate
    assert model.zoom.out() and model.zoom.blocks() == [(0, 3), (3, 5)]
    model.zoom.partition(None)
    assert model.zoom.blocks() == [(0, 2), (2, 5)]  # the children again: animals | vehicles


def test_a_seriation_on_trial_is_adopted_or_discarded(model: ViewerModel) -> None:
    vehicles = node(model, "vehicles")
    model.zoom.to(vehicles)
    base_node = model.zoom.seriation_target()
    assert base_node is not None and model.display.names[model.to_display(base_node)] == "vehicles"
    before = model.base
    classes = model.window_classes()
    assert sorted(classes.tolist()) == [2, 3, 4] and cells_similarity(model.counts, classes).shape == (3, 3)
    result = compute_seriation(base_node, classes, model.counts, model.cache.class_names, "leaf", model.base,
                               model.pairs, model.compare_pairs)
    old_metrics = model.metrics
    model.apply_seriation(result)
    assert model.preview is not None and model.base is result.tree is not before
    assert sorted(model.display.order.tolist()) == list(range(5))
    assert model.zoom.breadcrumb()[-1] == "vehicles" and model.zoom.window() == (2, 5)
    # The worker counted the new tree's metrics; installing them is all the UI thread does.
    assert model.metrics is result.metrics
    assert np.array_equal(model.metrics.tp, group_metrics(model.base, *model.pairs).tp)
    model.discard()
    assert model.preview is None and model.base is before and model.metrics is old_metrics
    model.apply_seriation(result)
    grafted = model.base
    model.adopt()
    assert model.preview is None and model.base is grafted


def test_a_seriation_that_finishes_after_a_filter_change_counts_its_metrics_again(model: ViewerModel) -> None:
    root = model.zoom.seriation_target()
    assert root is not None
    result = compute_seriation(root, model.window_classes(), model.counts, model.cache.class_names, "spectral",
                               model.base, model.pairs, model.compare_pairs)
    model.apply_sample_data(compute_sample_data(model.cache, replace(model.filters, top_k=1)))  # meanwhile
    model.apply_seriation(result)
    assert model.metrics is not result.metrics
    assert np.array_equal(model.metrics.tp, group_metrics(model.base, *model.pairs).tp)
    assert (model.metrics.tp[model.base.class_index >= 0] == 0).all()  # top-1 errors only: no class is right


def test_a_hidden_diagonal_cell_still_counts_and_shows_its_class(model: ViewerModel) -> None:
    """Issue 16: with the diagonal hidden (the default) a diagonal cell read 0 and the pane was empty."""
    assert not model.filters.diagonal
    model.focus_cell(0, 0)  # cat → cat
    info = model.cell_info(*model.cursor_bins())
    right = int(((LABELS == 0) & (PREDICTED == 0)).sum())
    assert info.hidden and info.count == right and info.share == pytest.approx(right / 6)
    selection = model.selections.cell(*model.cursor_bins())
    cats = np.flatnonzero(LABELS == 0)
    assert sorted(selection.ids.tolist()) == cats.tolist()  # its right ones and its errors
    assert selection.ids[:right].tolist() == np.flatnonzero((LABELS == 0) & (PREDICTED == 0)).tolist()
    assert selection.note == f"{right} here + {6 - right} errors"
    model.set_cell_filters(diagonal=True)
    model.frame(20, 20, n_levels=8)  # the app redraws after a filter
    shown = model.cell_info(*model.cursor_bins())
    assert not shown.hidden and shown.count == right
    assert sorted(model.selections.cell(*model.cursor_bins()).ids.tolist()) == np.flatnonzero(
        (LABELS == 0) & (PREDICTED == 0)).tolist()
