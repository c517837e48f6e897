"""The sample pane, the response map and result-set comparison, driven by key presses."""

from __future__ import annotations

import io
import threading
import weakref
from functools import partial
from typing import Callable
from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from blocks_tui.analysis import ResponseIndex
from blocks_tui.analysis.relevance import relevance_order
from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.layer_budget import LAYER_BUDGET
from blocks_tui.tui.responses import DEFAULT_THRESHOLD, layer_bytes
from blocks_tui.tui.selection_flow import PickedTarget, SelectionFlow
from blocks_tui.tui.images import ImageBackend, choose_backend
from blocks_tui.tui.screens.compare import CompareScreen
from blocks_tui.tui.widgets.responses import ResponseMap
from blocks_tui.tui.widgets.samples import Tile

from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT
from viewer_harness import ORIGINAL, GRAYSCALE, fake_topk, run_app, settle

LABELS = np.repeat(np.arange(5), 6)


def write_response_cache(path: Path) -> Path:
    """The Pilot tests' five classes and two result sets, with two layers whose neurons mean something.

    stage1 channel c (c < 5) fires for class c, channel 5 for every vehicle; stage2 has 3 channels.
    """
    rng = np.random.default_rng(0)
    n = len(LABELS)
    collective = rng.random((n, 6)).astype(np.float32) * 0.2
    collective[np.arange(n), LABELS] += 2.0
    collective[LABELS >= 2, 5] += 1.0 + np.arange(np.sum(LABELS >= 2)) * 0.01
    class_mean = np.stack([collective[LABELS == c].mean(axis=0) for c in range(5)])[:, :, None, None] / 4
    class_mean = np.repeat(np.repeat(class_mean, 2, axis=2), 2, axis=3).astype(np.float32)
    with CacheWriter(path, config={"model": "pilot", "dataset": "pilot"}) as w:
        w.write_classes(TINY_CLASSES)
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        thumbs = rng.integers(0, 256, size=(n, 48, 48, 3), dtype=np.uint8)
        w.write_samples(LABELS, [f"img/{i:02d}.png" for i in range(n)], thumbs)
        for name, rows in (("original", ORIGINAL), ("grayscale", GRAYSCALE)):
            w.write_result_set(name, *fake_topk(np.array(rows).ravel(), LABELS, 0.95))
        w.write_layer("stage1", class_mean, collective.astype(np.float16), (1, 6, 8, 8))
        w.write_layer("stage2", rng.random((5, 3, 2, 2), dtype=np.float32),
                      rng.random((n, 3)).astype(np.float16), (1, 3, 4, 4))
    return path


@pytest.fixture
def response_cache(tmp_path: Path) -> Path:
    return write_response_cache(tmp_path / "responses.h5")


@pytest.fixture(autouse=True)
def _truecolor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")


SIZE = (120, 40)
PREDICTED = np.array(ORIGINAL).ravel()


async def rest(pilot: Pilot) -> None:
    """Let the cursor rest: the sample pane follows it after SelectionFlow.PANE_DELAY."""
    await pilot.pause(2 * SelectionFlow.PANE_DELAY)


def visible_tiles(app: BlocksApp) -> list[int]:
    return app.samples.grid.visible_samples


def test_selecting_a_cell_shows_exactly_its_samples(response_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("j", "j", "l", "l", "l")  # row car, column bus
        await rest(pilot)
        want = np.flatnonzero((LABELS == 2) & (PREDICTED == 3))
        assert app.selection is not None and app.selection.kind == "cell"
        assert np.array_equal(app.selection.ids, want) and len(want) == 2
        assert visible_tiles(app) == [int(want[0])]  # one group (true class car), its first sample
        await pilot.press("h")  # car → car: the diagonal is hidden, yet its samples are there (issue 16)
        await rest(pilot)
        cars = np.flatnonzero(LABELS == 2)
        assert sorted(app.selection.ids.tolist()) == cars.tolist() and visible_tiles(app) == [int(cars[0])]
        assert "diagonal, hidden" in app.status.message.plain
        await pilot.press("d")  # show the diagonal: now the cell holds only its right ones
        await rest(pilot)
        assert np.array_equal(app.selection.ids, np.flatnonzero((LABELS == 2) & (PREDICTED == 2)))

    run_app(response_cache, script, size=SIZE)


def test_node_tabs_outcome_filter_and_opening_a_group(response_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("W", "j", "j", "j", "j")  # the tree on vehicles
        await rest(pilot)
        vehicles = LABELS >= 2
        into = PREDICTED >= 2
        s = app.selection
        assert s is not None and s.kind == "node" and s.title == "vehicles"
        counts = [int((vehicles & into).sum()), int((vehicles & ~into).sum()), int((~vehicles & into).sum())]
        assert s.tabs == (("TP", counts[0]), ("FN", counts[1]), ("FP", counts[2])) and counts[1] == 2
        assert np.array_equal(s.ids, np.flatnonzero(vehicles & into))
        await pilot.press("w", "w")  # tree → matrix → samples
        assert app.focused is app.samples.grid
        await pilot.press("v")
        assert app.selection.tab == 1 and np.array_equal(app.selection.ids, np.flatnonzero(vehicles & ~into))
        await pilot.press("v")
        assert np.array_equal(app.selection.ids, np.flatnonzero(~vehicles & into))
        await pilot.press("v", "x")  # back to TP; right in original, wrong in grayscale
        gray = np.array(GRAYSCALE).ravel()
        want = np.flatnonzero(vehicles & into & (PREDICTED == LABELS) & (gray != LABELS))
        assert "right in original, wrong in grayscale" in app.selection.title
        assert np.array_equal(app.selection.ids, want)
        await pilot.press("x")  # the reverse
        assert np.array_equal(app.selection.ids, np.flatnonzero(vehicles & into & (PREDICTED != LABELS)
                                                                & (gray == LABELS)))
        await pilot.press("x")  # right in both result sets ('only here' would repeat the pair filters)
        assert "right in all 2 result sets" in app.selection.title
        assert np.array_equal(app.selection.ids, np.flatnonzero(vehicles & into & (PREDICTED == LABELS)
                                                                & (gray == LABELS)))
        await pilot.press("x", "x")  # wrong in both, then all again
        assert np.array_equal(app.selection.ids, np.flatnonzero(vehicles & into))
        grid = app.samples.grid
        groups = len(grid.items)
        assert groups == 3 and grid.items[0].count > 1
        await pilot.press("enter")  # open the biggest group: every one of its samples
        assert grid.opened == 0 and len(grid.items) == grid.content.groups.counts[0]
        await pilot.press("l")
        details = app.samples.query_one("#samples-details").render()
        assert f"#{grid.items[1].sample}" in str(details) and "original" in str(details)
        await pilot.press("backspace")
        assert grid.opened is None and len(grid.items) == groups

    run_app(response_cache, script, size=SIZE)


def test_a_layer_past_the_memory_budget_ranks_on_a_per_class_sample_and_says_so(response_cache: Path) -> None:
    """Issue 17: a 10,000-class layer held every sample twice (8 GB for 2048 channels over 1M samples).  Past
    ``--memory`` the relevance index holds a per-class sample; the map and the top samples stay exact."""
    class_arrays = 2 * (5 * 6 * 4 * 4) + 5 * 6 * 4  # class means, scaled cells, per-class sums (bytes)
    budget = class_arrays + 4 * 6 * 10  # room for 10 of the 30 samples: 2 per class

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        assert app.centre.responses.budget == budget
        await pilot.press("tab")
        await settle(app, pilot)
        view = app.centre.responses.view
        assert view is not None and view.rows is not None and len(view.rows) == 10
        assert np.bincount(LABELS[view.rows], minlength=5).tolist() == [2] * 5
        with open_cache(response_cache) as cache:
            collective = cache.layer("stage1").collective()
        assert np.array_equal(view.top_samples, ResponseIndex(collective).top_samples(view.top_samples.shape[1]))
        await pilot.press("W", "j", "j", "j", "j")  # the tree on vehicles
        await settle(app, pilot)
        ranking = app.centre.responses.ranking
        assert ranking is not None and ranking.group_name == "vehicles" and ranking.order[0] == 5
        title = app.centre.response_map.drawing.title.plain
        assert "by relevance to vehicles (on 10 sampled)" in title

    run_app(response_cache, script, size=SIZE, layer_budget=budget)


def test_a_layers_map_shows_before_its_samples_are_read_and_moving_on_stops_the_read(
        response_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: a 256-channel layer of a million samples took 4 s to show, all of it reading samples that
    only the ranking needs.  The map now comes from the class means at once; the samples follow."""
    import blocks_tui.tui.widgets.centre as centre_module

    release = threading.Event()
    stops: list[Callable[[], bool]] = []
    real = centre_module.index_layer

    def slow(cache: object, view: object, budget: int, stop: Callable[[], bool]) -> object:
        stops.append(stop)
        release.wait(5)
        return real(cache, view, budget, stop)

    monkeypatch.setattr(centre_module, "index_layer", slow)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await pilot.pause(0.3)
        view = app.centre.responses.view
        assert view is not None and view.index is None and app.centre.response_map.drawing is not None
        assert "reading the samples to rank" in app.centre.response_map.drawing.title.plain
        await pilot.press("W", "j", "j", "j", "j")  # a group, before anything can be ranked: no error
        await pilot.pause(0.2)
        assert app.centre.responses.ranking is None and not app.notices
        await pilot.press("w", "right_square_bracket")  # move on: stage1's read is told to stop
        await pilot.pause(0.3)
        assert len(stops) == 2 and stops[0]() and not stops[1]()
        release.set()
        await settle(app, pilot)
        assert app.centre.responses.layer_name == "stage2" and app.centre.responses.view.index is not None
        assert app.centre.responses.views["stage1"].index is None  # its result was dropped
        await pilot.press("left_square_bracket")  # back: stage1's samples are read now, then ranked
        await settle(app, pilot)
        ranking = app.centre.responses.ranking
        assert app.centre.responses.view.index is not None and ranking is not None
        assert ranking.layer == "stage1" and ranking.group_name == "vehicles" and ranking.order[0] == 5

    run_app(response_cache, script, size=SIZE)


def test_a_layer_that_arrives_after_the_user_moved_back_is_not_read_behind_the_map(
        response_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its samples are read when it is shown: reading them for a layer not on screen would stop the read of
    the one that is, and hold up to the memory budget for nothing."""
    import blocks_tui.tui.widgets.centre as centre_module

    release = threading.Event()
    real = centre_module.load_class_view

    def slow(cache: object, name: str, n_classes: int) -> object:
        if name == "stage2":
            release.wait(5)
        return real(cache, name, n_classes)

    monkeypatch.setattr(centre_module, "load_class_view", slow)

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        await pilot.press("right_square_bracket", "left_square_bracket")  # stage2 asked for, then back
        release.set()
        await settle(app, pilot)
        views = app.centre.responses.views
        assert app.centre.responses.layer_name == "stage1" and views["stage1"].index is not None
        assert "stage2" in views and views["stage2"].index is None  # its map is kept; its samples wait
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert views["stage2"].index is not None  # read once shown

    run_app(response_cache, script, size=SIZE)


def test_a_dropped_layer_is_freed_at_once(response_cache: Path) -> None:
    """Issue 17: a finished worker kept its result in a reference cycle, so a layer the budget had dropped
    stayed in memory (600 MB at 10,000 classes) until Python's next full collection."""
    with open_cache(response_cache) as cache:
        sizes = [layer_bytes(cache.layer(name), 5, 30, LAYER_BUDGET) for name in ("stage1", "stage2")]

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        first = weakref.ref(app.centre.responses.views["stage1"])
        await pilot.press("W", "j", "j", "j", "j", "w")  # rank for vehicles: one more job that held the view
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert list(app.centre.responses.views) == ["stage2"]
        assert first() is None  # no collection asked for: nothing reaches it any more

    run_app(response_cache, script, size=SIZE, layer_budget=max(sizes) + min(sizes) - 1)


def test_response_map_ranks_neurons_by_relevance_to_the_tree_node(response_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        assert app.centre.showing_responses and app.focused is app.centre.response_map
        assert app.centre.responses.view is not None and app.centre.responses.view.name == "stage1"
        assert app.centre.response_map.drawing is not None
        await pilot.press("W", "j", "j", "j", "j")  # the tree on vehicles: rank stage1's neurons for it
        await settle(app, pilot)
        ranking = app.centre.responses.ranking
        assert ranking is not None and ranking.group_name == "vehicles"
        collective = np.asarray(app.centre.responses.view.index.collective, dtype=np.float16)
        want = relevance_order(ResponseIndex(collective).relevance(LABELS >= 2))
        assert np.array_equal(ranking.order, want) and want[0] == 5  # the vehicle neuron comes first
        drawing = app.centre.response_map.drawing
        assert drawing.levels.shape[1] == len(drawing.relevance) * 4  # d·d = 4 cells per neuron
        assert np.isclose(drawing.relevance[0], ranking.scores[5])
        await rest(pilot)
        s = app.selection  # the tree's cursor moved last: the pane shows the node, not the neuron
        assert s is not None and s.kind == "node" and s.title == "vehicles"
        values, delta = app.tree_values()  # the tree shows neuron 5's mean response per node, top = 1
        names = app.model.display.names
        assert not delta and np.nanmax(values) == pytest.approx(1.0)
        assert values[names.index("vehicles")] > 0.9 and values[names.index("animals")] < 0.2
        await pilot.press("w", "l")  # back to the map, next neuron: its samples replace the node's
        assert app.centre.responses.channel() == int(want[1])
        assert app.selection.kind == "neuron" and app.selection.ids[0] == int(np.argmax(collective[:, want[1]]))
        await pilot.press("h")
        assert app.selection.ids[0] == int(np.argmax(collective[:, 5]))
        before = app.centre.response_map.drawing.levels.copy()
        await pilot.press("t", "t")  # T 0.9 -> 0.8: each neuron's top fifth is yellow, not its top tenth
        assert app.centre.responses.threshold == pytest.approx(0.8)
        assert (app.centre.response_map.drawing.levels == 16).sum() > (before == 16).sum()
        assert "top 20%" in str(app.centre.response_map.drawing.title)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert app.centre.responses.layer_name == "stage2" and app.centre.response_map.drawing is not None
        assert app.centre.response_map.drawing.levels.shape[1] == 3 * 4
        await pilot.press("tab")
        assert not app.centre.showing_responses and app.focused is app.centre.matrix

    run_app(response_cache, script, size=SIZE)


def test_result_sets_cycle_and_compare_ranks_the_drop(response_cache: Path) -> None:
    async def script(app: BlocksApp, pilot: Pilot) -> None:
        original = app.model.counts.dense()
        await pilot.press("r")
        await settle(app, pilot)
        assert app.model.filters.result == "grayscale" and app.model.filters.compare == "original"
        assert not np.array_equal(app.model.counts.dense(), original)
        await pilot.press("R")
        await settle(app, pilot)
        assert app.model.filters.result == "original"
        await pilot.press("C")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen) and (screen.before, screen.after) == ("original", "grayscale")
        for _ in range(100):
            await pilot.pause()
            if screen.ranking is not None:
                break
        ranking = screen.ranking
        assert ranking is not None
        names = [app.model.base.names[v] for v in ranking.change.ranked]
        assert set(names) == {"all", "animals", "vehicles"}
        assert ranking.change.change[ranking.change.ranked[0]] <= ranking.change.change[ranking.change.ranked[-1]]
        table = screen.query_one(DataTable)
        assert table.row_count == 3 and table.cursor_row == 0
        await pilot.press("G")  # the vim keys every table shares
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("enter")  # show the biggest drop: grayscale active, tree coloured by Δrecall
        await settle(app, pilot)
        assert app.model.filters.result == "grayscale" and app.model.filters.compare == "original"
        assert app.model.delta and app.model.metric == "recall"
        first = app.model.to_display(int(ranking.change.ranked[0]))
        assert app.hierarchy.cursor_node is not None and app.hierarchy.cursor_node.data == first
        await rest(pilot)
        # The pane follows the jump: the compared node's samples, not what it showed before (issue 15).
        assert app.selection is not None and app.selection.kind == "node"
        assert app.selection.title == app.model.display.names[first]

    run_app(response_cache, script, size=SIZE)


def test_layer_keys_need_the_response_map_and_a_cache_without_layers_says_so(tmp_path: Path) -> None:
    from conftest import write_tiny_cache

    path = write_tiny_cache(tmp_path / "t.h5")

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        assert app.centre.showing_responses
        await pilot.press("tab")
        assert not app.centre.showing_responses
        await pilot.press("t")  # not shown in the matrix view: the key does nothing there
        assert app.centre.responses.threshold == pytest.approx(DEFAULT_THRESHOLD)

    run_app(path, script, size=SIZE)


# -- choosing how images are drawn -------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_image_backend_auto_falls_back_to_half_cells() -> None:
    assert choose_backend("auto", {}, io.StringIO()).mode == "halfcell"  # not a terminal
    assert choose_backend("auto", {"TMUX": "/tmp/tmux-0/default,1,0"}, FakeTTY(), FakeTTY()).mode == "halfcell"
    assert choose_backend("auto", {"TERM": "screen-256color"}, FakeTTY(), FakeTTY()).mode == "halfcell"
    assert choose_backend("auto", {"TERM": "dumb"}, FakeTTY(), FakeTTY()).mode == "off"
    assert choose_backend("unicode", {}, io.StringIO()).mode == "unicode"
    assert choose_backend("kitty", {}, io.StringIO()).mode == "tgp"  # another name for the same protocol
    with pytest.raises(ValueError, match="--images must be one of"):
        choose_backend("iterm")


def test_a_terminal_reporting_zero_columns_does_not_crash() -> None:
    """textual-image 0.12 divides by the reported column count; we measure cells ourselves and tell it."""
    import os

    from textual_image import _terminal

    master, slave = os.openpty()  # a fresh pty reports 0 columns, 0 rows and 0 pixels
    try:
        with os.fdopen(os.dup(slave), "w") as tty:
            backend = choose_backend("sixel", {}, tty, tty)  # nobody answers on the other side: no hang either
    finally:
        os.close(master)
        os.close(slave)
    assert backend.mode == "sixel" and backend.cell == (10, 20)
    assert _terminal.get_cell_size() == _terminal.CellSize(10, 20)


def _run_with_images(response_cache: Path, mode: str, check: Callable[[BlocksApp], None]) -> None:
    """Open the viewer with thumbnails drawn in ``mode``, select the car→bus cell (one sample), then ``check``."""
    import asyncio

    from blocks_tui.cache import open_cache
    from blocks_tui.tui.keymap import LoadedKeymap
    from blocks_tui.tui.model import ViewerModel

    async def main() -> None:
        with open_cache(response_cache) as cache:
            app = BlocksApp(ViewerModel.open(cache), keymap=LoadedKeymap(Path("none.toml")),
                            images=ImageBackend(mode, "test"))
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("j", "j", "l", "l", "l")
                await rest(pilot)
                check(app)

    asyncio.run(main())


def _grid_text(app: BlocksApp) -> list[str]:
    grid = app.samples.grid
    return [grid.render_line(y).text for y in range(grid.size.height)]


def test_images_off_draws_no_pictures(response_cache: Path) -> None:
    def check(app: BlocksApp) -> None:
        grid = app.samples.grid
        (sample,) = grid.visible_samples
        lines = _grid_text(app)
        assert lines[0].startswith(f"#{sample}") and "bus" not in lines[0]  # the id where the picture would be
        assert "car" in lines[1]  # then the caption: the true class
        assert "▀" not in "".join(lines) and not grid.children

    _run_with_images(response_cache, "off", check)


def test_halfcell_grid_draws_pictures_and_captions_itself(response_cache: Path) -> None:
    def check(app: BlocksApp) -> None:
        grid = app.samples.grid
        assert not grid.children  # no widget per tile
        (sample,) = grid.visible_samples
        lines = _grid_text(app)
        assert all(line[:12] == "▀" * 12 for line in lines[:6])  # the picture, two pixel rows per cell
        assert lines[6].startswith("≈ car ×2")  # caption: in the top 5, true class car, a group of two
        assert lines[7].strip() == "" and lines[0][12:].strip() == ""  # the gaps; the second slot is empty
        top = grid.render_line(0)
        assert top is grid.render_line(0)  # repaints reuse the line

    _run_with_images(response_cache, "halfcell", check)


def test_textual_image_modes_use_a_widget_per_tile(response_cache: Path) -> None:
    def check(app: BlocksApp) -> None:
        grid = app.samples.grid
        tiles = [t for t in app.main.query(Tile) if t.view.sample is not None]
        assert [t.view.sample for t in tiles] == grid.visible_samples and len(tiles) == 1
        image = tiles[0].query_one(".tile-image")
        assert type(image).__name__ == "UnicodeImage" and image.image is not None
        want = grid.content.thumbnails(np.array(grid.visible_samples))[0]
        np.testing.assert_array_equal(np.asarray(image.image), want)  # the cached thumbnail, as a PIL image

    _run_with_images(response_cache, "unicode", check)


def test_response_map_is_a_widget_of_its_own() -> None:
    assert ResponseMap.can_focus


def test_halfcell_strips_put_two_pixel_rows_in_each_cell() -> None:
    from rich.color import Color

    from blocks_tui.tui.widgets.thumbnail import halfcell_strips

    pixels = np.zeros((4, 2, 3), dtype=np.uint8)
    pixels[0] = (255, 0, 0)  # red, green, blue, white rows
    pixels[1] = (0, 255, 0)
    pixels[2] = (0, 0, 255)
    pixels[3] = (255, 255, 255)
    strips = halfcell_strips(pixels, 2, 2)
    assert len(strips) == 2 and all(s.cell_length == 2 for s in strips)
    (first,) = list(strips[0])  # two equal cells merge into one segment
    assert first.text == "▀▀"
    assert first.style.color == Color.from_rgb(255, 0, 0) and first.style.bgcolor == Color.from_rgb(0, 255, 0)
    (second,) = list(strips[1])
    assert second.style.color == Color.from_rgb(0, 0, 255) and second.style.bgcolor == Color.from_rgb(255, 255, 255)
    assert ImageBackend("halfcell", "test").widget_class is None  # the grid draws half cells itself
    assert ImageBackend("off", "test").widget_class is None


def test_regressions_from_review(response_cache: Path) -> None:
    """Each of these broke once: a crash comparing trees, filters narrowing twice, a stale pane."""
    from dataclasses import replace

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        await pilot.press("tab")
        await settle(app, pilot)
        await pilot.press("O", "O", "O")  # sort by metric: a new tree object on every pass
        app.results.apply_filters(replace(app.model.filters, compare="original", top_k=None))
        await settle(app, pilot)
        assert app.is_running  # it compared two Trees with == and crashed
        await pilot.press("tab", "W", "j", "j", "j", "j")  # the tree on vehicles: its TP in the pane
        await rest(pilot)
        before = app.selection
        assert before is not None and before.kind == "node"
        await pilot.press("r")  # another result set: the pane follows with the new counts
        await settle(app, pilot)
        await rest(pilot)
        gray = np.array(GRAYSCALE).ravel()
        assert np.array_equal(app.selection.ids, np.flatnonzero((LABELS >= 2) & (gray >= 2)))
        top = partial(app.model.selections.ranked, "mislabel", "top", np.arange(30))
        app.flow.select(PickedTarget("mislabel", "top", top), now=True)
        ids = app.selection.ids.copy()
        modes = app.model.selections.outcome_sets().modes()
        assert modes == ["all", "right-then-wrong", "wrong-then-right", "right-in-all", "wrong-in-all"]
        for _ in modes:  # through every filter these two result sets serve, back to where it started
            app.model.selections.cycle_outcome_filter()
            app.flow.reselect()
        assert np.array_equal(app.selection.ids, ids) and app.selection.title == "top"

    run_app(response_cache, script, size=SIZE)


def test_outcomes_of_many_result_sets_fit_the_details_lines() -> None:
    """A `train` cache has a result set per epoch and model: the active one first, the rest counted."""
    from rich.cells import cell_len

    from blocks_tui.tui.samples import fit_outcomes

    few = [("original", "top-1"), ("grayscale", "wrong"), ("rot90", "top-5")]
    fitted = fit_outcomes(few, "grayscale", 29, 2)
    assert fitted.rows == [[("grayscale", "wrong"), ("original", "top-1")], [("rot90", "top-5")]]
    assert not fitted.rest and fitted.summary == ""

    many = [(f"aware:epoch-{i}", ("top-1", "top-5", "wrong")[i % 3]) for i in range(1, 61)]
    fitted = fit_outcomes(many, "aware:epoch-30", 29, 2)
    shown = [entry for row in fitted.rows for entry in row]
    assert 1 <= len(fitted.rows) <= 2 and shown[0] == ("aware:epoch-30", "top-1")
    assert sum(fitted.rest.values()) == 60 - len(shown)  # every result set is shown or counted
    assert fitted.rest["wrong"] == sum(o == "wrong" for _, o in many) - sum(o == "wrong" for _, o in shown)
    last = "  ".join(f"✓ {n}" for n, _ in fitted.rows[-1]) + ("  " if fitted.rows[-1] else "") + fitted.summary
    assert fitted.summary.startswith(f"+{60 - len(shown)} ") and cell_len(last) <= 29
    for row in fitted.rows[:-1]:
        assert cell_len("  ".join(f"✓ {n}" for n, _ in row)) <= 29


def test_details_block_keeps_every_line_inside_the_pane() -> None:
    from blocks_tui.tui.samples import SampleDetails
    from blocks_tui.tui.widgets.samples import details_text

    outcomes = [(f"baseline:epoch-{i}", "top-1") for i in range(40)] + [("original", "wrong")]
    d = SampleDetails(7, "eval/7.png", "car", [("bus", 0.6), ("car", 0.3)], outcomes, active="original")
    lines = details_text(d, 28).plain.split("\n")
    assert len(lines) <= 2 + 5 + 2 and all(len(line) <= 28 for line in lines)
    assert lines[-2] == "✗ original"  # the active result set first; the next entry needs a line of its own
    assert lines[-1] == "✓ baseline:epoch-0  +39 ✓39"  # and the 39 that do not fit, counted


def test_details_lines_never_wrap_whatever_the_names() -> None:
    """A long image path, a long class name and wide characters: each line is cut, the outcomes stay."""
    from rich.cells import cell_len

    from blocks_tui.tui.samples import SampleDetails
    from blocks_tui.tui.widgets.samples import details_text

    source = "/data/imagenet/val/n01440764/ILSVRC2012_val_00000067.JPEG"
    outcomes = [("原始结果集合", "top-1"), ("灰度图像结果", "wrong"), ("rot90", "top-5")]
    d = SampleDetails(67, source, "great-white-shark-carcharodon", [("tench", 0.7)], outcomes, active="rot90")
    lines = details_text(d, 28).plain.split("\n")
    assert all(cell_len(line) <= 28 for line in lines)
    assert lines[0].startswith("#67 …") and lines[0].endswith("val_00000067.JPEG")  # the file name survives
    assert lines[1].startswith("true great-white") and lines[1].endswith("…")
    assert lines[3:] == ["≈ rot90  ✓ 原始结果集合", "✗ 灰度图像结果"]  # the active set first, wide names whole
    assert len(lines) == 2 + 1 + 2  # head, true, one top-5 line, two outcome lines
    narrow = details_text(d, 12).plain.split("\n")
    assert all(cell_len(line) <= 12 for line in narrow)
