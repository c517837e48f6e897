"""The selection flow's rules without a terminal: one target feeds both the pane and the status line.

A stand-in viewer records what the flow hands the pane and says on the
status line; the model is the real one on the five-class cache.  The Pilot
walk over every entry point is tests/functional/test_tui_selection_flow.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from rich.text import Text

from blocks_tui.analysis.response_view import spread_to_unit
from blocks_tui.cache import open_cache
from blocks_tui.tui.model import ViewerModel
from blocks_tui.tui.samples import PaneContent, Selection
from blocks_tui.tui.selection_flow import CellTarget, NeuronTarget, NodeTarget, PickedTarget, SelectionFlow

from viewer_harness import write_viewer_cache


@dataclass
class Timer:
    callback: Callable[[], None]
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Main:
    is_attached: bool = True
    is_mounted: bool = True


@dataclass
class Centre:
    viewport: tuple[int, int] | None = (20, 20)
    neuron: Selection = field(default_factory=lambda: Selection("neuron", "stage1 #1: strongest responses",
                                                                np.array([3, 4])))

    def neuron_status(self) -> Text:
        return Text("row cat  ·  neuron #1 (rank 1, R = 0.50)")

    def neuron_selection(self) -> Selection:
        return self.neuron


class Recorder:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.shown: list[PaneContent] = []

    def say(self, text: Text) -> None:
        self.said.append(text.plain)

    def show(self, content: PaneContent) -> None:
        self.shown.append(content)


class Viewer:
    """What SelectionFlow asks of the app, and nothing more."""

    def __init__(self, model: ViewerModel) -> None:
        self.model = model
        self.main = Main()
        self.screen: Any = self.main
        self.centre = Centre()
        self.status = self.samples = Recorder()
        self.timers: list[Timer] = []

    def set_timer(self, delay: float, callback: Callable[[], None]) -> Timer:
        self.timers.append(Timer(callback))
        return self.timers[-1]

    def rest(self) -> None:
        """The cursor rests: pending pane requests that were not superseded fire."""
        for timer in self.timers:
            if not timer.stopped:
                timer.stopped = True
                timer.callback()


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[Viewer]:
    with open_cache(write_viewer_cache(tmp_path / "flow.h5")) as cache:
        model = ViewerModel.open(cache)
        model.frame(20, 20, n_levels=8)
        yield Viewer(model)


def test_a_cell_is_said_at_once_and_shown_once_the_cursor_rests(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    viewer.model.focus_cell(2, 3)  # car → bus
    flow.select(CellTarget())
    assert viewer.status.said[-1].startswith("true car  →  predicted bus  ·  2")
    assert not viewer.samples.shown and flow.pending
    viewer.rest()
    shown = viewer.samples.shown[-1].selection
    assert (shown.kind, shown.title) == ("cell", "car → bus") and len(shown.ids) == 2


def test_the_newest_request_wins_and_a_jump_fills_the_pane_at_once(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    m = viewer.model
    flow.select(CellTarget())  # pending
    vehicles = list(m.display.names).index("vehicles")
    flow.select(NodeTarget(m.to_base(vehicles)), now=True)
    assert not flow.pending and viewer.samples.shown[-1].selection.title == "vehicles"
    viewer.rest()  # the superseded cell never reaches the pane
    assert len(viewer.samples.shown) == 1
    assert viewer.status.said[-1].startswith("node vehicles  ·  3 classes  ·  P ")


def test_a_node_target_survives_a_resort_that_renumbers_the_display(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    m = viewer.model
    animals = list(m.display.names).index("animals")
    flow.select(NodeTarget(m.to_base(animals)), now=True)
    m.set_sort("name")  # display ids change; the target holds the base id
    flow.reselect()
    assert viewer.samples.shown[-1].selection.title == "animals"


def test_refresh_follows_a_cell_but_not_a_node(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    m = viewer.model
    flow.select(NodeTarget(m.to_base(list(m.display.names).index("animals"))), now=True)
    flow.refresh()
    assert not flow.pending  # a redraw leaves a node alone
    flow.select(CellTarget(), now=True)
    flow.refresh()
    assert flow.pending  # the cursor's bin may hold other classes now


def test_picked_rows_and_neurons_name_themselves_on_the_status_line(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    m = viewer.model
    m.focus_cell(0, 3)
    title = "cat → bus (redundant)"
    flow.select(PickedTarget("outlier", title, partial(m.selections.ranked, "outlier", title, np.array([5]))))
    assert viewer.status.said[-1].startswith("outlier cat → bus (redundant)  ·  true cat  →  predicted bus")
    flow.select(NeuronTarget(), now=True)
    assert "neuron #1" in viewer.status.said[-1] and viewer.samples.shown[-1].selection.title.startswith("stage1 #1")


def test_a_nodes_tabs_step_and_an_announcement_stays_with_the_target(viewer: Viewer) -> None:
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    m = viewer.model
    assert not flow.next_tab()  # nothing selected: no tabs
    flow.select(NodeTarget(m.to_base(list(m.display.names).index("vehicles"))), now=True)
    assert flow.next_tab() and viewer.samples.shown[-1].selection.tab == 1  # FN
    flow.announce("epoch 2 of 3 (epoch-2) · ")
    assert viewer.status.said[-1].startswith("epoch 2 of 3 (epoch-2) · node vehicles")
    flow.reselect()
    assert viewer.samples.shown[-1].selection.tab == 1  # a new result set keeps the tab


def test_nothing_is_said_about_a_cell_before_the_first_frame(viewer: Viewer) -> None:
    viewer.centre.viewport = None
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    flow.select(CellTarget())
    assert not viewer.status.said and not flow.pending


def test_spread_to_unit_maps_the_finite_range_onto_zero_to_one() -> None:
    values = np.array([2.0, 4.0, np.nan, 3.0])
    spread = spread_to_unit(values)
    assert spread[[0, 1, 3]].tolist() == [0.0, 1.0, 0.5] and np.isnan(spread[2])
    assert spread_to_unit(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]  # all equal: no bars
    assert spread_to_unit(np.array([np.nan])).tolist() == [0.0]


def test_a_neuron_before_its_layer_loads_selects_nothing_yet(viewer: Viewer) -> None:
    viewer.centre.neuron_selection = lambda: None  # type: ignore[method-assign]
    flow = SelectionFlow(viewer)  # type: ignore[arg-type]
    flow.select(NeuronTarget(), now=True)
    flow.reselect()
    assert not viewer.samples.shown and flow.target == NeuronTarget()
