"""Stepping through training epochs, and the layer × node table of linear probes, in the viewer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from blocks_tui.cache import CacheWriter
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.screens.separation import SeparationScreen

from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT
from viewer_harness import ORIGINAL, fake_topk, run_app, settle

LABELS = np.repeat(np.arange(5), 6)
SIZE = (120, 40)
# An early probe that only tells animals from vehicles: every animal is "cat", every vehicle "car".
COARSE = np.where(LABELS < 2, 0, 2)


def write_epochs_cache(path: Path, probes: bool = True) -> Path:
    with CacheWriter(path, config={"model": "pilot", "dataset": "pilot"}) as w:
        w.write_classes(TINY_CLASSES)
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        w.write_samples(LABELS, [f"s{i}" for i in range(30)], np.zeros((30, 48, 48, 3), dtype=np.uint8))
        w.write_result_set("original", *fake_topk(np.array(ORIGINAL).ravel(), LABELS, 0.95), attrs={"epoch": 3})
        for epoch, predicted in ((1, COARSE), (2, np.where(np.arange(30) % 2, LABELS, COARSE))):
            w.write_result_set(f"epoch-{epoch}", *fake_topk(predicted, LABELS, 0.9))
        if probes:
            w.write_result_set("probe:stage1", *fake_topk(COARSE, LABELS, 0.8))
            w.write_result_set("probe:stage2", *fake_topk(LABELS, LABELS, 0.8))
        w.write_layer("stage1", np.zeros((5, 2, 1, 1), np.float32), np.zeros((30, 2), np.float16), (1, 2, 4, 4))
        w.write_layer("stage2", np.zeros((5, 2, 1, 1), np.float32), np.zeros((30, 2), np.float16), (1, 2, 2, 2))
    return path


@pytest.fixture
def epochs_cache(tmp_path: Path) -> Path:
    return write_epochs_cache(tmp_path / "epochs.h5")


def test_comma_and_full_stop_step_through_the_epochs(epochs_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        assert app.model.filters.result == "original"
        await pilot.press("comma")
        await settle(app, pilot)
        assert app.model.filters.result == "epoch-2" and "epoch 2 of 3" in app.status.message.plain
        await pilot.press("comma")
        await settle(app, pilot)
        assert app.model.filters.result == "epoch-1"
        # Epoch 1 only separates the groups: every animal is predicted cat, every vehicle car.
        assert app.model.counts.at(1, 0) == 6 and app.model.counts.at(3, 2) == 6
        await pilot.press("comma")  # already the first: stays
        await settle(app, pilot)
        assert app.model.filters.result == "epoch-1"
        await pilot.press("full_stop", "full_stop")
        await settle(app, pilot)
        assert app.model.filters.result == "original"

    run_app(epochs_cache, script, size=SIZE)


def test_layer_by_node_table_and_enter_shows_that_probe(epochs_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, SeparationScreen)
        for _ in range(100):
            await pilot.pause()
            if screen.table_data is not None:
                break
        data = screen.table_data
        assert data is not None and data.columns == ("probe:stage1", "probe:stage2", "original")
        names = [row[2] for row in screen.rows]
        assert names[:3] == ["all", "animals", "cat"]
        animals = screen.rows[1][1]
        cat = screen.rows[2][1]
        # The coarse probe separates the groups perfectly but not the classes.
        assert data.values[animals, 0] == pytest.approx(1.0) and data.values[cat, 0] == pytest.approx(1.0)
        dog = screen.rows[3][1]
        assert data.values[dog, 0] == pytest.approx(0.0) and data.values[dog, 1] == pytest.approx(1.0)
        table = screen.query_one(DataTable)
        assert table.row_count == len(screen.rows) and len(table.columns) == 4
        assert table.cursor_coordinate == (0, 1)  # the root, first probe column
        await pilot.press("l", "l", "h")
        assert table.cursor_coordinate == (0, 2)
        await pilot.press("h", "j", "j", "j")  # dog, first probe column
        assert table.cursor_coordinate == (3, 1)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.model.filters.result == "probe:stage1"
        node = app.hierarchy.cursor_node
        assert node is not None and app.model.display.names[node.data] == "dog"
        await pilot.pause(2 * app.flow.PANE_DELAY)
        # The pane follows the jump to the probe's cell: dog's samples (issue 15).
        assert app.selection is not None and (app.selection.kind, app.selection.title) == ("node", "dog")

    run_app(epochs_cache, script, size=SIZE)


def test_probe_table_without_probes_says_how_to_make_them(tmp_path: Path) -> None:
    path = write_epochs_cache(tmp_path / "noprobe.h5", probes=False)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, SeparationScreen)
        assert any("blocks-tui probe" in notice for notice in app.notices)

    run_app(path, script, size=SIZE)
