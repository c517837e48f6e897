"""Every way the selection changes leaves the sample pane and the status line naming the same thing.

Issue 15: the pane was updated by whichever handler remembered to, so Enter on
a Compare row moved the tree but left the pane on the old node, and a resize
through the too-small screen left a bin of the tiny matrix in the pane.  Now
every entry point goes through :class:`~blocks_tui.tui.selection_flow.SelectionFlow`;
this test walks all of them on the demo (with probes added) and reads what
the two views show.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from blocks_tui.extract.probe import ProbeSettings, probe_cache
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.jobs import compute_outlier_rows
from blocks_tui.tui.screens.compare import CompareScreen
from blocks_tui.tui.screens.find import FindScreen
from blocks_tui.tui.screens.separation import SeparationScreen
from blocks_tui.tui.selection_flow import SelectionFlow

from viewer_harness import run_app, settle

SIZE = (120, 40)


@pytest.fixture(scope="module")
def probed_demo(demo_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo cache with a linear probe of its first layer (for the layer × node table)."""
    path = tmp_path_factory.mktemp("flow") / "demo.h5"
    shutil.copyfile(demo_cache, path)
    probe_cache(path, ["stage1"], ProbeSettings("scipy", "cpu", steps=20))
    return path


def named_alike(app: BlocksApp) -> tuple[str, str]:
    """Check that the pane's title and the status line name the same selection; return both."""
    title = app.samples.heading.plain.split("\n")[0]
    status = app.status.message.plain
    kind, _, name = title.partition(" ")
    if kind == "Cell":
        true, predicted = name.split(" → ")
        wanted = f"true {true}  →  predicted {predicted}"
    elif kind == "Node":
        wanted = f"node {name}"
    elif kind == "Neuron":
        channel = re.search(r"#\d+", name)
        assert channel is not None, title
        wanted = f"neuron {channel.group()}"
    else:  # a picked row: outlier, mislabel, sample
        wanted = f"{kind.lower()} {name}"
    assert wanted in status, f"pane: {title!r}, status: {status!r}"
    return kind, name


async def rest(app: BlocksApp, pilot: Pilot) -> None:
    await settle(app, pilot)
    await pilot.pause(2 * SelectionFlow.PANE_DELAY)
    await settle(app, pilot)


async def wait_for(pilot: Pilot, ready: object) -> None:
    for _ in range(200):
        await pilot.pause()
        if callable(ready) and ready():
            return
    raise AssertionError("the screen never filled")


def test_every_entry_point_names_one_selection_in_pane_and_status(probed_demo: Path) -> None:
    seen: dict[str, tuple[str, str]] = {}

    async def step(app: BlocksApp, pilot: Pilot, entry: str, *keys: str) -> tuple[str, str]:
        await pilot.press(*keys)
        await rest(app, pilot)
        seen[entry] = named_alike(app)
        return seen[entry]

    async def script(app: BlocksApp, pilot: Pilot) -> None:
        m = app.model
        await rest(app, pilot)
        assert named_alike(app)[0] == "Cell"  # the first frame fills the pane
        assert (await step(app, pilot, "cell", "j", "j", "l"))[0] == "Cell"
        assert (await step(app, pilot, "next outlier", "n"))[0] == "Cell"
        assert app.status.message.plain.startswith("outlier 1/")
        # Issue 16: n goes first where o ranks first (missile → projectile on the demo, not a 1-sample cell).
        first = compute_outlier_rows(m.cache, m.base, m.filters.result, limit=1)[0]
        names = m.cache.class_names
        assert seen["next outlier"][1] == f"{names[first.true]} → {names[first.predicted]}"
        await step(app, pilot, "zoom into a block", "enter")
        await step(app, pilot, "zoom out", "backspace")

        app.hierarchy.focus()
        assert (await step(app, pilot, "tree node", "j", "j"))[0] == "Node"
        node = seen["tree node"][1]
        assert (await step(app, pilot, "another result set", "r"))[1] == node  # the node stays selected
        assert (await step(app, pilot, "epoch step", "full_stop"))[1] == node
        assert "epoch " in app.status.message.plain

        assert (await step(app, pilot, "response map", "tab"))[0] == "Neuron"
        assert (await step(app, pilot, "neuron", "l"))[0] == "Neuron"
        app.hierarchy.focus()
        assert (await step(app, pilot, "tree node in the response map", "j"))[0] == "Node"
        assert (await step(app, pilot, "back to the matrix", "tab"))[0] == "Cell"

        app.centre.matrix.focus()
        await step(app, pilot, "outliers panel", "o")
        assert (await step(app, pilot, "outlier row", "j"))[0] == "Outlier"
        await pilot.press("o")
        await step(app, pilot, "mislabels panel", "m")
        assert (await step(app, pilot, "mislabel row", "j"))[0] == "Mislabel"
        await pilot.press("m")

        await pilot.press("C")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.ranking is not None)
        await pilot.press("j", "j")
        picked = m.base.names[int(screen.ranking.change.ranked[2])]  # type: ignore[union-attr]
        assert await step(app, pilot, "compare row", "enter") == ("Node", picked)

        await pilot.press("p")
        probes = app.screen
        assert isinstance(probes, SeparationScreen)
        await wait_for(pilot, lambda: probes.table_data is not None)
        await pilot.press("j", "j")
        picked = probes.rows[probes.query_one(DataTable).cursor_row][2]
        assert await step(app, pilot, "probe cell", "enter") == ("Node", picked)
        assert app.model.filters.result == "probe:stage1"

        group = next(m.display.names[n] for n in m.display.preorder() if 1 < m.display.size(n) < 10)
        await pilot.press("slash", *group)
        assert isinstance(app.screen, FindScreen)
        assert await step(app, pilot, "find a group", "enter") == ("Node", group)
        name = m.cache.class_names[7]
        assert await step(app, pilot, "find a class", "slash", *name, "enter") == ("Node", name)
        kind, title = await step(app, pilot, "find a sample", "slash", *"#15", "enter")
        assert kind == "Sample" and title.startswith("#15:")

        app.centre.matrix.focus()
        await step(app, pilot, "cell before a resize", "j")
        await pilot.resize_terminal(50, 15)  # the too-small screen, over a tiny matrix
        await rest(app, pilot)
        await pilot.resize_terminal(*SIZE)
        assert await step(app, pilot, "resize") == seen["cell before a resize"]

        await pilot.resize_terminal(60, 16)  # the smallest size the viewer takes: fewer cells than classes
        await step(app, pilot, "zoom to the top", "Z")
        assert app.centre.matrix.frame is not None and app.centre.matrix.frame.bins < len(m.cache.class_names)
        kind, title = await step(app, pilot, "bin", "j", "l")
        assert kind == "Cell" and "classes in" in title  # a bin of several classes, named alike in both

    run_app(probed_demo, script, size=SIZE)
    assert len(seen) == 24  # every step above ran
