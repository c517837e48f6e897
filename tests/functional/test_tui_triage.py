"""Keyboard-only triage: the outliers and mislabels panels, marks and notes saved, restored on restart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from blocks_tui.analysis.triage import rank_outliers
from blocks_tui.cache import open_cache
from blocks_tui.cache.triage import triage_path
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.screens.dialogs import TextDialog

from viewer_harness import ORIGINAL, run_app, settle, write_viewer_cache

SIZE = (120, 40)
LABELS = np.repeat(np.arange(5), 6)
PREDICTED = np.array(ORIGINAL).ravel()


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return write_viewer_cache(tmp_path / "pilot.h5")


async def open_panel(app: BlocksApp, pilot: Pilot, key: str) -> None:
    await pilot.press(key)
    await settle(app, pilot)
    await pilot.pause(2 * app.flow.PANE_DELAY)


def test_outliers_panel_ranks_marks_notes_and_restores_after_a_restart(cache_path: Path) -> None:
    with open_cache(cache_path) as cache:
        r = cache.result("original")
        from blocks_tui.analysis import Tree

        h = cache.hierarchy
        want = rank_outliers(Tree.from_hierarchy(h), cache.labels, r.topk_index,
                             r.topk_prob)
    names = ["cat", "dog", "car", "bus", "van"]

    async def first_run(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        panel = app.triage.panel
        assert panel.has_class("-open") and app.focused is panel.table
        assert panel.table.row_count == len(want) >= 2
        top = want[0]
        # The matrix cursor sits on the row's cell and the pane shows exactly that cell's samples.
        pos = app.model.display.position
        assert app.model.cursor == (int(pos[top.true]), int(pos[top.predicted]))
        cell = np.flatnonzero((LABELS == top.true) & (PREDICTED == top.predicted))
        assert app.selection is not None and np.array_equal(app.selection.ids, cell)
        await pilot.press("1")  # redundant; the cursor moves on to the next row
        assert panel.table.cursor_row == 1
        await pilot.press("k", "e")
        assert isinstance(app.screen, TextDialog)
        app.screen.query_one(Input).value = "same thing twice"
        await pilot.press("enter")
        await pilot.press("j", "3")  # the second row: ambiguous
        saved = json.loads(triage_path(cache_path).read_text())
        marks = {(o["true"], o["predicted"]): (o["decision"], o["note"]) for o in saved["outliers"]}
        assert marks[(names[top.true], names[top.predicted])] == ("redundant", "same thing twice")
        second = want[1]
        assert marks[(names[second.true], names[second.predicted])] == ("ambiguous", "")
        await pilot.press("escape")
        assert not panel.has_class("-open") and app.focused is app.centre.matrix

    async def second_run(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        table = app.triage.panel.table
        assert table.get_cell("0", "mark").plain == "redundant"
        assert table.get_cell("0", "note").plain == "same thing twice"  # a Text: never parsed as markup
        assert table.get_cell("1", "mark").plain == "ambiguous"
        await pilot.press("j", "0")  # clearing removes the entry from the file
        saved = json.loads(triage_path(cache_path).read_text())
        assert len(saved["outliers"]) == 1

    run_app(cache_path, first_run, size=SIZE)
    run_app(cache_path, second_run, size=SIZE)


def test_mislabels_panel_marks_samples(cache_path: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "m")
        panel = app.triage.panel
        wrong = np.flatnonzero(LABELS != PREDICTED)
        assert panel.kind == "mislabels" and panel.table.row_count == len(wrong)
        first = app.triage.panel.rows[0]
        assert app.selection is not None and app.selection.ids.tolist() == [first.sample]
        await pilot.press("2")
        saved = json.loads(triage_path(cache_path).read_text())
        assert [(s["sample"], s["decision"]) for s in saved["samples"]] == [(first.sample, "mislabeled")]
        await pilot.press("o")  # the other panel replaces it; pressing it again closes it
        await settle(app, pilot)
        assert panel.kind == "outliers"
        await pilot.press("o")
        assert not panel.has_class("-open")

    run_app(cache_path, script, size=SIZE)


def test_an_unwritable_folder_keeps_marks_in_memory_and_export_saves_them(cache_path: Path,
                                                                          tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        app.triage.store().path = blocker / "pilot.triage.json"  # creating a file there fails, even as root
        await pilot.press("1")
        assert not app.triage.store().saved and not app.triage.store().path.exists()
        assert "cannot write" in app.status.message.plain and "E exports" in app.status.message.plain
        assert app.triage.store().decision(app.triage.panel.current_key()) == "redundant"  # kept in memory
        assert app.triage.panel.table.get_cell("0", "mark").plain == "redundant"
        await pilot.press("E")
        assert isinstance(app.screen, TextDialog)
        target = tmp_path / "exported.json"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        assert json.loads(target.read_text())["outliers"][0]["decision"] == "redundant"

    run_app(cache_path, script, size=SIZE)


def test_a_corrupt_triage_file_is_kept_aside_and_the_app_still_opens(cache_path: Path) -> None:
    path = triage_path(cache_path)
    path.write_text("{ not json")

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        assert app.triage.panel.table.row_count > 0
        store = app.triage.store()
        assert store is not None and store.message and "corrupt" in store.message
        aside = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".corrupt")]
        assert len(aside) == 1 and aside[0].read_text() == "{ not json"

    run_app(cache_path, script, size=SIZE)


def test_rows_ranked_after_the_panel_closed_leave_the_cursor_alone(cache_path: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        rows = app.triage.panel.rows
        await pilot.press("escape", "j")
        cursor = app.model.cursor
        app.triage.ranked("outliers", "original", rows)  # a ranking that finishes after the panel closed
        await pilot.pause()
        assert not app.triage.panel.has_class("-open") and app.model.cursor == cursor

    run_app(cache_path, script, size=SIZE)


def test_a_mark_saved_in_the_other_direction_is_found(cache_path: Path) -> None:
    from blocks_tui.cache.triage import CacheIdentity, OutlierKey, TriageStore

    names = ["cat", "dog", "car", "bus", "van"]
    with open_cache(cache_path) as cache:
        store = TriageStore.open(cache_path, CacheIdentity.of_cache(cache))
        r = cache.result("original")
        from blocks_tui.analysis import Tree

        h = cache.hierarchy
        top = rank_outliers(Tree.from_hierarchy(h), cache.labels, r.topk_index,
                            r.topk_prob)[0]
        store.mark(OutlierKey(names[top.predicted], names[top.true]), 4)  # as another result set keyed it

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        assert app.triage.panel.table.get_cell("0", "mark").plain == "expected"

    run_app(cache_path, script, size=SIZE)


def test_a_resize_through_the_too_small_screen_keeps_the_pane_on_its_selection(cache_path: Path) -> None:
    """At 50x15 the matrix shrank into bins and the pane took one of them; back at full size the status line
    named the outlier's cell while the pane showed that bin (issue 15)."""

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await open_panel(app, pilot, "o")
        await pilot.pause(2 * app.flow.PANE_DELAY)
        before = app.selection
        assert before is not None and before.kind == "outlier"
        await pilot.resize_terminal(50, 15)
        await pilot.pause(2 * app.flow.PANE_DELAY)
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(2 * app.flow.PANE_DELAY)
        assert app.selection is not None and (app.selection.kind, app.selection.title) == ("outlier", before.title)
        true, predicted = before.title.split(" (")[0].split(" → ")
        status = app.status.message.plain
        assert true in status and predicted in status  # the status line names the same pair

    run_app(cache_path, script, size=SIZE)


def test_at_80_columns_the_mark_kind_and_note_need_no_scrolling(cache_path: Path) -> None:
    """Issue 16: at 80 columns the mark and note columns were off screen, about 15 presses of l away."""
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        for key, wanted in (("o", ["#", "mark", "kind", "true → predicted", "note"]),
                            ("m", ["#", "mark", "sample", "label", "predicted", "note"])):
            await pilot.press(key)
            await settle(app, pilot)
            table = app.triage.panel.table
            columns = list(table.columns.values())
            assert [c.label.plain for c in columns[: len(wanted)]] == wanted
            used = sum(c.get_render_width(table) for c in columns[: len(wanted)])
            assert used <= table.size.width, (used, table.size.width)
            await pilot.press("1")  # marked where it can be seen
            assert "redundant" in str(table.get_cell_at((0, 1)))
            await pilot.press("escape")

    run_app(cache_path, script, size=(80, 24))
