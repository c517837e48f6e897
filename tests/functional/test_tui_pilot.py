"""The viewer driven by key presses (Textual's Pilot) on a five-class cache with known confusions."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any
from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from blocks_tui.analysis import CellCounts, block_outliers
from blocks_tui.analysis.view_frame import BLOCK, FN_BAND, FP_BAND, NODE_BLOCK
from blocks_tui.cache import CacheWriter
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.bindings import ALL_KEYS
from blocks_tui.tui.jobs import compute_outlier_rows
from blocks_tui.tui.screens.dialogs import AdoptDialog, PartitionDialog, SeriationDialog
from blocks_tui.tui.screens.filter import FilterScreen
from blocks_tui.tui.screens.help import HelpScreen
from blocks_tui.tui.screens.main import MainScreen
from blocks_tui.tui.screens.too_small import TooSmallScreen
from blocks_tui.tui.widgets.samples import SamplePane

from viewer_harness import run_app, settle, write_viewer_cache


@pytest.fixture
def viewer_cache(tmp_path: Path) -> Path:
    return write_viewer_cache(tmp_path / "pilot.h5")


@pytest.fixture(autouse=True)
def _truecolor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")


def test_starts_on_the_whole_hierarchy_with_the_matrix_focused(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        assert isinstance(app.screen, MainScreen) and app.focused is app.centre.matrix
        assert app.model.zoom.breadcrumb() == ["all"]
        assert app.centre.matrix.frame is not None and app.centre.matrix.frame.bins == 5
        assert app.centre.matrix.cursor == (0, 0)
        assert "true cat" in app.status.message.plain and "predicted cat" in app.status.message.plain

    run_app(viewer_cache, script)


def test_cursor_moves_cell_by_cell_and_the_status_names_the_cell(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("j", "j", "l")
        assert app.centre.matrix.cursor == (2, 1) and app.model.cursor == (2, 1)
        assert "true car" in app.status.message.plain and "predicted dog" in app.status.message.plain
        await pilot.press("h")
        assert app.centre.matrix.cursor == (2, 0)
        status = app.status.message.plain
        assert "predicted cat" in status and "1 (16.7% of the row)" in status
        await pilot.press("down", "right", "right", "right", "right", "right")  # clamped at the edge
        assert app.centre.matrix.cursor == (3, 4)
        await pilot.press("x")
        assert app.centre.matrix.cursor == (3, 3)
        await pilot.press("G")
        assert app.centre.matrix.cursor == (4, 4)
        await pilot.press("g")
        assert app.centre.matrix.cursor == (0, 0)
        await pilot.pause(2 * app.flow.PANE_DELAY)  # the sample pane follows a resting cursor
        selection = app.selection
        assert selection is not None and selection.kind == "cell" and selection.title == "cat → cat"

    run_app(viewer_cache, script)


def test_zoom_in_and_out_follows_the_hierarchy_and_keeps_the_cursor(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("j", "j", "j", "l", "l", "l")  # (bus, bus): inside vehicles
        assert app.model.cursor == (3, 3)
        await pilot.press("enter")
        assert app.model.zoom.breadcrumb() == ["all", "vehicles"]
        assert app.model.zoom.window() == (2, 5)
        assert app.model.cursor == (3, 3) and app.centre.matrix.cursor == (1, 1)  # still on bus → bus
        assert app.centre.matrix.frame is not None and app.centre.matrix.frame.bins == 3
        assert app.hierarchy.cursor_node is not None and app.hierarchy.cursor_node.data == 4
        await pilot.press("enter")  # a single class: nothing below it
        assert app.model.zoom.breadcrumb() == ["all", "vehicles"]
        assert "single class" in app.status.message.plain
        await pilot.press("backspace")
        assert app.model.zoom.breadcrumb() == ["all"] and app.centre.matrix.cursor == (3, 3)
        await pilot.press("backspace")
        assert "top of the hierarchy" in app.status.message.plain
        await pilot.press("enter", "escape")  # Escape zooms out too
        assert app.model.zoom.breadcrumb() == ["all"]

    run_app(viewer_cache, script)


def test_enter_off_the_diagonal_blocks_does_not_zoom(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("j", "j", "j")  # row bus, column cat: an off-block cell
        await pilot.press("enter")
        assert app.model.zoom.breadcrumb() == ["all"]
        # Issue 16: it says why, naming the two classes, and the pane shows the cell at once.
        assert app.status.message.plain.startswith("bus and cat meet only in all, no smaller block holds both")
        assert app.selection is not None and (app.selection.kind, app.selection.title) == ("cell", "bus → cat")

    run_app(viewer_cache, script)


def test_tree_node_highlights_its_fn_and_fp_bands_and_enter_zooms_to_it(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("W")  # the focus goes back from the matrix to the tree
        assert app.focused is app.hierarchy
        await pilot.press("j")  # animals
        await pilot.pause(2 * app.flow.PANE_DELAY)  # the sample pane follows a resting cursor
        assert app.model.band() == (0, 2)
        codes = app.centre.matrix.frame.codes
        assert codes[0, 0] == NODE_BLOCK  # cat → cat (diagonal hidden): the node's own block
        assert codes[0, 3] == FN_BAND and codes[1, 4] == FN_BAND  # animal rows, vehicle columns
        assert codes[2, 1] == FP_BAND and codes[3, 0] == FP_BAND  # vehicle rows, animal columns
        assert codes[4, 1] > NODE_BLOCK  # van → dog holds a count: it keeps its colour
        assert codes[3, 3] == BLOCK
        selection = app.selection  # the sample pane follows the tree: the node's TP, FN and FP
        assert selection is not None and selection.kind == "node" and selection.title == "animals"
        assert selection.tabs == (("TP", 12), ("FN", 0), ("FP", 2))
        await pilot.press("enter")
        assert app.model.zoom.breadcrumb() == ["all", "animals"] and app.model.band() is None
        await pilot.press("k", "enter")  # back on the root: zoom out to everything
        assert app.model.zoom.breadcrumb() == ["all"]

    run_app(viewer_cache, script)


def test_tree_vim_keys_collapse_expand_and_jump(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        tree = app.hierarchy
        await pilot.press("W", "G")
        assert tree.cursor_node.data == 4  # vehicles, the last visible line
        await pilot.press("l")
        assert tree.cursor_node.is_expanded
        await pilot.press("l")
        assert tree.cursor_node.data == 5  # its first child, car
        await pilot.press("h")  # a leaf: go to the parent
        assert tree.cursor_node.data == 4
        await pilot.press("h")  # collapse
        assert not tree.cursor_node.is_expanded
        await pilot.press("g")
        assert tree.cursor_node.data == 0
        await pilot.press("j", "l", "j", "enter")  # open animals, on cat: zoom to animals with the cursor on cat
        assert app.model.zoom.breadcrumb() == ["all", "animals"] and app.model.cursor == (0, 0)
        label = tree.get_node_at_line(1).label.plain
        assert label.split()[:2] == ["animals", "2"] and label.endswith(("0.92", "0.83", "0.67", "1.00", "0.91"))

    run_app(viewer_cache, script)


def test_next_and_previous_outlier_visit_the_off_block_cells(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        expected = block_outliers(app.model.shown.dense(), [(0, 2), (2, 5)])
        assert sorted(zip(expected.true.tolist(), expected.predicted.tolist())) == [(2, 0), (4, 1)]  # car → cat, van → dog
        ranked = compute_outlier_rows(app.model.cache, app.model.base, "original")  # the o panel's order
        cells = [(int(r.true), int(r.predicted)) for r in ranked]
        assert sorted(cells) == [(2, 0), (4, 1)]
        await pilot.press("n")  # the first press ranks them in a worker, as o does
        await settle(app, pilot)
        assert app.model.cursor == cells[0] and app.centre.matrix.cursor == cells[0]
        assert app.status.message.plain.startswith("outlier 1/2")
        await pilot.press("n")
        assert app.model.cursor == cells[1]
        await pilot.press("n")
        assert app.model.cursor == cells[0]  # wraps around
        await pilot.press("N")
        assert app.model.cursor == cells[1] and app.status.message.plain.startswith("outlier 2/2")
        await pilot.press("enter")  # outliers lie off the diagonal blocks
        await pilot.press("g", "enter", "n")  # inside animals there are no blocks apart
        assert "no block outliers" in app.status.message.plain

    run_app(viewer_cache, script)


def test_filter_screen_sets_every_filter_and_a_worker_recounts(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FilterScreen)
        screen.query_one("#result", Select).value = "grayscale"
        screen.query_one("#min_count", Input).value = "2"
        screen.query_one("#top_k", Input).value = "1"
        screen.query_one("#pred_low", Input).value = "0.5"
        screen.query_one("#true_high", Input).value = "0.9"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        f = app.model.filters
        assert (f.result, f.min_count, f.top_k, f.predicted_prob, f.true_prob) == \
            ("grayscale", 2, 1, (0.5, 1.0), (0.0, 0.9))
        assert 0 < app.model.kept < 30
        assert app.model.counts.dense().trace() == 0  # top-1 errors only: nothing on the diagonal
        assert len(app.model.shown) and (app.model.shown.count >= 2).all()
        header = app.main.query_one("#header")
        shown = header.render().plain[: header.size.width]  # what fits on the line
        assert "grayscale" in shown and f"{app.model.kept} samples" in shown and "count ≥ 2" in shown, shown
        assert "top-1 errors" in header.render().plain  # the rest of the filters, cut at the edge

    run_app(viewer_cache, script)


def test_filter_screen_rejects_bad_values_and_escape_cancels(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("f")
        app.screen.query_one("#top_k", Input).value = "9"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, FilterScreen)
        assert "top-k must lie in 1..5" in str(app.screen.query_one("#filter-error").render())
        app.screen.query_one("#top_k", Input).value = ""
        app.screen.query_one("#pred_low", Input).value = "0.8"
        app.screen.query_one("#pred_high", Input).value = "0.2"
        await pilot.press("ctrl+s")
        assert "low ≤ high" in str(app.screen.query_one("#filter-error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.model.filters.predicted_prob is None

    run_app(viewer_cache, script)


def test_diagonal_scale_metric_and_sort_keys(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        m = app.model
        assert m.shown.dense().trace() == 0
        await pilot.press("d")
        assert m.filters.diagonal and m.shown.dense().trace() == m.counts.dense().trace() > 0
        await pilot.press("c")
        assert m.scale == "log"
        labels = []
        for _ in range(6):
            await pilot.press("M")
            labels.append(m.metric_label())
        assert labels == ["precision", "recall", "Δf1 vs grayscale", "Δprecision vs grayscale",
                          "Δrecall vs grayscale", "f1"]
        await pilot.press("O")  # by name: animals, vehicles; bus, car, van
        assert m.sort == "name" and m.display.order.tolist() == [0, 1, 3, 2, 4]
        await pilot.press("O")  # by size: vehicles first
        assert m.sort == "size" and [m.display.names[c] for c in m.display.children(0)] == ["vehicles", "animals"]
        assert app.hierarchy.get_node_at_line(1).label.plain.startswith("vehicles")

    run_app(viewer_cache, script)


def test_partition_draws_blocks_and_zoom_follows_them(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("b")
        assert isinstance(app.screen, PartitionDialog)
        await pilot.press("2", "enter")
        await settle(app, pilot)
        assert len(app.model.zoom.blocks()) == 2 and app.model.zoom.blocks()[0][0] == 0
        await pilot.press("enter")
        assert app.model.zoom.breadcrumb() == ["all", "block 1"] and app.model.zoom.steps[-1].node is None
        await pilot.press("backspace", "b", "0", "enter")
        assert app.model.zoom.blocks() == [(0, 2), (2, 5)]  # back to the hierarchy's children

    run_app(viewer_cache, script)


def test_seriation_runs_in_a_worker_and_can_be_adopted_or_discarded(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        names = app.model.display.names
        await pilot.press("s")
        assert isinstance(app.screen, SeriationDialog)
        await pilot.press("enter")  # spectral
        await settle(app, pilot)
        assert isinstance(app.screen, AdoptDialog) and app.model.preview is not None
        assert sorted(app.model.display.order.tolist()) == [0, 1, 2, 3, 4]
        await pilot.press("n")
        assert app.model.display.names == names and app.model.preview is None
        await pilot.press("s", "down", "enter")  # barycenter
        await settle(app, pilot)
        await pilot.press("y")
        assert app.model.preview is None and app.model.display.names != names
        assert app.hierarchy.root.label.plain.startswith("all")

    run_app(viewer_cache, script)


def test_slow_work_shows_a_spinner_until_it_is_done(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        release = threading.Event()
        done: list[object] = []
        app.run_job("test", "counting sheep", lambda: release.wait(5) and "ok", done.append)
        await pilot.pause()
        assert app.status.busy == "counting sheep"
        await pilot.press("j")  # the app still answers keys meanwhile
        assert app.centre.matrix.cursor == (1, 0)
        release.set()
        await settle(app, pilot)
        assert done == ["ok"] and app.status.busy is None

    run_app(viewer_cache, script)


def test_help_lists_every_binding_and_the_palette_runs_commands(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "".join(str(s.render()) for s in app.screen.query(Static))
        table = app.screen.keys_table()
        ids = [str(cell) for cell in table.columns[2].cells]
        assert all(spec.id in ids for spec in ALL_KEYS)
        assert "keymap.toml" in text or "none.toml" in text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"by size")
        await pilot.press("enter")
        await pilot.pause()
        assert app.model.sort == "size"

    run_app(viewer_cache, script)


def test_keymap_remaps_a_binding(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("j")
        assert app.centre.matrix.cursor == (0, 0)  # j no longer moves down
        await pilot.press("ctrl+n")
        assert app.centre.matrix.cursor == (1, 0)

    run_app(viewer_cache, script, keys={"matrix.cursor_down": "ctrl+n"})


def test_80_by_24_hides_the_sample_pane_and_keeps_the_matrix(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        assert not app.main.query_one(SamplePane).display
        assert app.centre.matrix.size.width >= 40 and app.centre.matrix.frame is not None
        await pilot.press("j", "enter")
        assert app.model.zoom.breadcrumb() == ["all", "animals"]

    run_app(viewer_cache, script, size=(80, 24))


def test_tiny_terminal_shows_one_message_until_it_grows(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        assert isinstance(app.screen, TooSmallScreen)
        message = str(app.screen.query_one("#too-small", Static).render())
        assert "needs 60×16" in message and "is 50×12" in message
        assert max(len(line) for line in message.splitlines()) <= 40  # fits the terminals it is shown on
        await pilot.press("o", "question_mark", "f", "slash")  # issue 16: nothing opens behind the message
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        # One message, over the main screen and nothing else (a start-up resize used to push a second one).
        assert [type(s) for s in app.screen_stack[1:]] == [MainScreen, TooSmallScreen]
        assert not app.triage.panel.is_open and not app.busy
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)

    run_app(viewer_cache, script, size=(50, 12))


def write_flat_cache(path: Path, names: list[str] | None = None) -> Path:
    """Six classes and no hierarchy (root → leaves), confused in two groups: {a, b, c} and {d, e, f}."""
    names = names or list("abcdef")
    labels = np.repeat(np.arange(6), 10)
    rng = np.random.default_rng(1)
    group = labels // 3
    predicted = np.where(rng.random(60) < 0.5, labels, group * 3 + rng.integers(0, 3, 60))
    with CacheWriter(path, config={"model": "flat", "dataset": "flat"}) as w:
        w.write_classes(names)
        w.write_hierarchy(["all", *names], np.array([-1, 0, 0, 0, 0, 0, 0]), np.array([-1, 0, 1, 2, 3, 4, 5]),
                          source="file")
        w.write_samples(labels, [f"s{i}" for i in range(60)], np.zeros((60, 48, 48, 3), dtype=np.uint8))
        index = np.array([[p] + [c for c in range(6) if c != p][:4] for p in predicted])
        prob = np.tile(np.array([0.6, 0.2, 0.1, 0.06, 0.04], dtype=np.float32), (60, 1))
        w.write_result_set("original", index, prob, np.full(60, 0.3, dtype=np.float32))
        w.write_layer("stage1", np.zeros((6, 2, 1, 1), np.float32), np.zeros((60, 2), np.float16), (1, 2, 4, 4))
    return path


def test_without_a_hierarchy_zoom_follows_partition_then_seriation_blocks(tmp_path: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("enter")
        assert "no hierarchy here" in app.status.message.plain and app.model.zoom.breadcrumb() == ["all"]
        await pilot.press("b", "enter")  # automatic block count
        await settle(app, pilot)
        blocks = app.model.zoom.blocks()
        assert blocks == [(0, 3), (3, 6)]
        await pilot.press("enter")
        assert app.model.zoom.breadcrumb() == ["all", "block 1"] and app.model.zoom.window() == (0, 3)
        await pilot.press("s")  # a partition block is not a node: nothing to graft onto
        assert app.model.preview is None and isinstance(app.screen, MainScreen)
        await pilot.press("backspace", "s", "enter")
        await settle(app, pilot)
        await pilot.press("y")
        tree = app.model.display
        assert sorted(tree.size(c) for c in tree.children(0)) == [3, 3]  # the seriation's two groups
        await pilot.press("g", "enter")
        assert app.model.zoom.breadcrumb()[1] in ("block 1", "block 2") and app.model.zoom.steps[-1].node is not None

    run_app(write_flat_cache(tmp_path / "flat.h5"), script)


def test_a_failed_filter_job_restores_the_filters_it_announced(viewer_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import blocks_tui.tui.features.results as app_module

    def broken(*_args: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(app_module, "compute_sample_data", broken)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        before = app.model.filters
        await pilot.press("f")
        app.screen.query_one("#top_k", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.is_running  # a failed job is a notification, not a crash
        assert app.model.filters.sample_key() == before.sample_key()
        assert "top-1 errors" not in str(app.main.query_one("#header").render())

    run_app(viewer_cache, script)


def test_slash_finds_a_group_a_class_and_a_sample(viewer_cache: Path) -> None:
    from blocks_tui.tui.screens.find import FindScreen

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("slash")
        assert isinstance(app.screen, FindScreen)
        await pilot.press(*"vehic", "enter")  # a group: the tree cursor, its bands, its samples
        assert isinstance(app.screen, MainScreen)
        await pilot.pause(2 * app.flow.PANE_DELAY)
        assert app.hierarchy.cursor_node.data == 4 and app.model.band() == (2, 5)
        assert app.selection.kind == "node" and app.selection.title == "vehicles"
        await pilot.press("slash", *"bus", "enter")  # a class: its diagonal cell and its leaf
        await pilot.pause(2 * app.flow.PANE_DELAY)
        assert app.model.cursor == (3, 3) and app.hierarchy.cursor_node.data == 6
        assert app.focused is app.centre.matrix and app.status.message.plain.startswith("node bus  ·  1 class")
        assert app.selection.kind == "node" and app.selection.title == "bus"  # its TP / FN / FP
        app.model.filters = replace(app.model.filters, compare="grayscale")
        app.model.selections.outcome_filter = "right-then-wrong"  # would hide #15, wrong in the active set
        await pilot.press("slash", *"#15", "enter")  # a sample: a car taken for a bus, shown all the same
        await pilot.pause(2 * app.flow.PANE_DELAY)
        assert app.model.cursor == (2, 3)
        assert app.selection.kind == "sample" and list(app.selection.ids) == [15]
        assert app.samples.grid.visible_samples == [15]
        app.model.selections.outcome_filter = "all"
        await pilot.press("enter")  # zoom into vehicles; a group outside the window is revealed
        assert app.model.zoom.breadcrumb() == ["all", "vehicles"]
        await pilot.press("slash", *"animals", "enter")
        assert app.model.zoom.breadcrumb() == ["all"] and app.model.band() == (0, 2)
        await pilot.press("slash", "a", "down", "enter")  # animals first (a prefix), then car
        assert app.model.cursor == (2, 2)
        await pilot.press("slash", *"zzz")
        assert "nothing matches" in str(app.screen.query_one("#find-note").render())
        await pilot.press("enter", "escape")  # nothing to go to; Escape leaves everything as it was
        assert isinstance(app.screen, MainScreen) and app.model.cursor == (2, 2)
        await pilot.press("tab")  # on the response map, the row cursor goes to the class found
        await settle(app, pilot)
        await pilot.press("slash", *"bus", "enter")
        assert app.focused is app.centre.response_map and app.centre.responses.row == 3
        assert "row bus" in app.status.message.plain

    run_app(viewer_cache, script)


def test_triage_rows_move_the_response_maps_row_cursor_too(viewer_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        await pilot.pause(2 * app.flow.PANE_DELAY)
        rows = app.triage.panel.rows
        assert len(rows) >= 2
        for index in range(2):
            row = rows[index]
            assert app.model.cursor == (row.true, row.predicted)  # positions equal classes in this tree
            assert app.centre.responses.row == row.true
            await pilot.press("j")
            await pilot.pause(2 * app.flow.PANE_DELAY)

    run_app(viewer_cache, script)


def test_the_start_up_heap_is_frozen_while_the_app_runs_and_handed_back_after(viewer_cache: Path) -> None:
    import gc

    seen: list[int] = []

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        seen.append(gc.get_freeze_count())

    run_app(viewer_cache, script)
    assert seen[0] > 1000  # widgets, styles and the model, out of the collector's sight
    assert gc.get_freeze_count() == 0  # a closed app's cycles can be collected again


def test_help_fits_80x24_says_what_every_key_does_and_scrolls_with_vim_keys(viewer_cache: Path) -> None:
    """Issue 16: at 80x24 the description column was cut to nothing, Tab was described wrongly, G did nothing."""
    from rich.console import Console
    from textual.containers import VerticalScroll

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        keys = screen.query_one("#help-keys", Static)
        console = Console(width=keys.content_size.width, record=True, color_system=None)
        console.print(screen.keys_table())
        lines = console.export_text().splitlines()
        for spec in ALL_KEYS:  # every binding's line, generated from the table: keys, help and id
            row = next(line for line in lines if line.rstrip().endswith(spec.id))
            first_words = " ".join(spec.help.split()[:2])
            assert first_words in row, (spec.id, row)
        tab = next(line for line in lines if line.rstrip().endswith("main.view"))
        assert "response map" in " ".join(lines[lines.index(tab):lines.index(tab) + 3])
        assert not any("Move focus between the tree and the matrix" in line for line in lines)
        body = screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0 and body.scroll_y == 0
        await pilot.press("G")
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("k", "k")
        assert body.scroll_y == body.max_scroll_y - 2
        await pilot.press("g")
        assert body.scroll_y == 0

    run_app(viewer_cache, script, size=(80, 24))


def test_marks_outside_the_triage_panel_say_where_they_go(viewer_cache: Path) -> None:
    """Issue 16: 1-4 pressed on the matrix did nothing and said nothing."""
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("1")
        assert "press o (block outliers) or m (mislabel candidates)" in app.status.message.plain
        await pilot.press("o")
        await settle(app, pilot)
        app.centre.matrix.focus()
        await pilot.press("2")
        assert "w moves the focus to the panel's table" in app.status.message.plain
        store = app.triage.store()
        assert store is not None and len(store) == 0  # nothing was marked

    run_app(viewer_cache, script)


def test_captions_of_names_with_one_prefix_never_read_alike(tmp_path: Path) -> None:
    """Issue 16: on 1000 classes every caption read `class- ×32`; names are cut where they differ."""
    names = [f"class-{i:05d}" for i in (383, 384, 385, 1383, 2383, 12)]
    path = write_flat_cache(tmp_path / "numbered.h5", names)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        app.hierarchy.focus()
        await pilot.press("j", "k")  # the tree cursor on the root: one tile per class
        await pilot.pause(3 * app.flow.PANE_DELAY)
        grid = app.samples.grid
        captions = [view.caption.plain for view in grid.shown if view.sample is not None]
        assert len(captions) == 6, captions
        shown = [c.split(" ")[1] for c in captions]  # "✓ cl…383 ×5" → the name part
        assert len(set(shown)) == 6 and all("…" in name for name in shown), shown

    run_app(path, script, size=(200, 60))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_header_keeps_the_sample_count_and_the_footer_the_triage_keys(viewer_cache: Path, size: tuple[int, int]) -> None:
    """Issue 16: at 120 columns the header lost the sample count (and the scale in compare mode), and the
    footer dropped o and m below about 160 columns."""
    from textual.widgets._footer import FooterKey

    from blocks_tui.tui.widgets.header import Breadcrumb

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.pause()
        header = app.main.query_one(Breadcrumb)
        app.navigation.metric("recall", True)  # compare mode: the longest metric label
        await pilot.pause()
        line = header.render().plain
        assert len(line) <= size[0] and ("30 samples" in line or "samples 30" in line) and "original" in line, line
        if size[0] >= 100:
            assert "scale linear" in line, line
        shown = [k for k in app.screen.query(FooterKey) if k.region.width and k.region.right <= size[0]]
        keys = {(k.key_display, k.description) for k in shown}
        assert {("o", "Outliers"), ("m", "Mislabels")} <= keys, keys

    run_app(viewer_cache, script, size=size)


def test_a_zoom_to_a_few_classes_labels_the_diagonal_and_wide_screens_widen_the_pane(viewer_cache: Path) -> None:
    """Issue 16: zoomed to a few classes, cells many characters wide carried no names; on a wide screen the
    sample pane kept 31 columns while the square matrix could not use the rest."""
    from blocks_tui.tui.screens.main import PANE_MIN, pane_width

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        matrix = app.centre.matrix
        await pilot.press("j", "j", "x", "enter")  # into vehicles: car, bus, van
        await pilot.pause()
        assert app.model.zoom.breadcrumb() == ["all", "vehicles"] and matrix.frame is not None
        assert matrix.frame.magnify >= 6
        text = "\n".join(matrix.render_line(y).text for y in range(matrix.size.height))
        for name in ("car", "bus", "van"):
            assert name in text, text
        await pilot.press("backspace")
        await pilot.pause()
        text = "\n".join(matrix.render_line(y).text for y in range(matrix.size.height))
        assert all(name in text for name in ("cat", "dog", "car", "bus", "van"))  # five get 6+ columns too
        assert app.samples.outer_size.width == pane_width(160, 40) == 38  # the square leaves it 7 more
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.samples.outer_size.width == pane_width(120, 40) == PANE_MIN
        await pilot.resize_terminal(300, 40)
        await pilot.pause()
        assert app.samples.outer_size.width == pane_width(300, 40) == 300 - 49 - 78 - 2

    run_app(viewer_cache, script, size=(160, 40))


def test_seriation_and_partition_work_off_the_ui_thread_and_escape_cancels_them(viewer_cache: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: the window's O(classes²) similarity was built on the UI thread, and a long seriation could not
    be stopped.  Now the worker builds it, keys answer meanwhile, and Escape cancels."""
    import blocks_tui.tui.jobs as jobs

    threads: list[str] = []
    release = threading.Event()
    similarity = jobs.cells_similarity

    def slow_similarity(cells: CellCounts, classes: np.ndarray) -> Any:
        threads.append(threading.current_thread().name)
        release.wait(5)
        return similarity(cells, classes)

    monkeypatch.setattr(jobs, "cells_similarity", slow_similarity)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("s", "enter")  # spectral seriation of the whole tree
        await pilot.pause(0.2)
        assert app.busy and threads and threads[0] != threading.main_thread().name
        await pilot.press("j")  # the matrix still answers
        assert app.centre.matrix.cursor == (1, 0)
        await pilot.press("escape")
        assert not app.busy and app.status.message.plain.startswith("cancelled: seriating 5 classes")
        assert app.model.zoom.breadcrumb() == ["all"]  # Escape cancelled; it did not also zoom out
        release.set()
        await pilot.pause(0.3)
        assert not isinstance(app.screen, AdoptDialog) and app.model.preview is None  # its result is dropped
        await pilot.press("b", "2", "enter")  # a partition runs in a worker too, and finishes
        await settle(app, pilot)
        assert len(threads) == 2 and threads[1] != threading.main_thread().name
        assert len(app.model.zoom.blocks()) == 2 and "2 blocks" in app.status.message.plain

    run_app(viewer_cache, script)
