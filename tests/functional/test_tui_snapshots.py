"""SVG snapshots of the viewer on the demo cache (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/functional/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/functional/__snapshots__/test_tui_snapshots/`` before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from textual.pilot import Pilot

from blocks_tui.cache import open_cache
from blocks_tui.tui.app import BlocksApp
from blocks_tui.tui.selection_flow import SelectionFlow
from blocks_tui.tui.keymap import LoadedKeymap
from blocks_tui.tui.model import ViewerModel


@pytest.fixture
def viewer(demo_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A factory of viewers on the demo cache, truecolor unless asked for 256 colours, no user keymap."""
    opened = []

    def make(colours: str = "truecolor") -> BlocksApp:
        if colours == "truecolor":
            monkeypatch.setenv("COLORTERM", "truecolor")
        else:
            monkeypatch.delenv("COLORTERM", raising=False)
            monkeypatch.setenv("TERM", "xterm-256color")
        cache = open_cache(demo_cache)
        opened.append(cache)
        return BlocksApp(ViewerModel.open(cache), keymap=LoadedKeymap(Path("none.toml")))

    yield make
    for cache in opened:
        cache.close()


async def _settle(pilot: Pilot) -> None:
    await pilot.pause()


def test_main_screen_120x40(snap_compare: Any, viewer: Any) -> None:
    assert snap_compare(viewer(), terminal_size=(120, 40), run_before=_settle)


def test_main_screen_80x24(snap_compare: Any, viewer: Any) -> None:
    assert snap_compare(viewer(), terminal_size=(80, 24), run_before=_settle)


def test_main_screen_200x60(snap_compare: Any, viewer: Any) -> None:
    """The first screen on a large terminal (issue 16 asks for 80x24, 120x40 and 200x60)."""
    assert snap_compare(viewer(), terminal_size=(200, 60), run_before=_settle)


def test_zoomed_with_node_bands_120x40(snap_compare: Any, viewer: Any) -> None:
    """Zoomed into 'artifacts', log scale, the tree cursor on 'rings': its FN rows and FP columns."""
    assert snap_compare(viewer(), terminal_size=(120, 40), run_before=_settle,
                        press=["enter", "c", "W", "j", "j", "j"])


def test_main_screen_256_colours_120x40(snap_compare: Any, viewer: Any) -> None:
    assert snap_compare(viewer("256"), terminal_size=(120, 40), run_before=_settle)


async def _after_keys(pilot: Pilot) -> None:
    """Let workers (layer loading, ranking) finish and the sample pane follow the resting cursor."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(3 * SelectionFlow.PANE_DELAY)


def test_response_map_ranked_for_a_group_120x40(snap_compare: Any, viewer: Any) -> None:
    """Tab to the response map, the tree on 'natural', one layer on: neurons ranked by relevance to it."""
    assert snap_compare(viewer(), terminal_size=(120, 40), run_before=_after_keys,
                        press=["tab", "W", "j", "j", "right_square_bracket", "right_square_bracket"])


def test_sample_pane_shows_a_nodes_true_positives_120x40(snap_compare: Any, viewer: Any) -> None:
    """The tree on 'artifacts', the focus in the pane: half-cell thumbnails grouped by true class."""
    assert snap_compare(viewer(), terminal_size=(120, 40), run_before=_after_keys,
                        press=["W", "j", "w", "w", "l"])


def test_outliers_panel_on_the_planted_pair_120x40(snap_compare: Any, viewer: Any) -> None:
    """`o`: the ranked block outliers under the matrix, the cursor and the sample pane on the top pair."""
    assert snap_compare(viewer(), terminal_size=(120, 40), run_before=_after_keys, press=["o"])


def test_outliers_panel_80x24(snap_compare: Any, viewer: Any) -> None:
    """At 80 columns the mark, the kind and the note come first, on screen without scrolling."""
    assert snap_compare(viewer(), terminal_size=(80, 24), run_before=_after_keys, press=["o"])


def test_outliers_panel_200x60(snap_compare: Any, viewer: Any) -> None:
    assert snap_compare(viewer(), terminal_size=(200, 60), run_before=_after_keys, press=["o"])


def test_find_lists_classes_and_groups_as_you_type_80x24(snap_compare: Any, viewer: Any) -> None:
    """`/` and "an": anemone first (a prefix), then the names holding "an", then letters in order."""
    assert snap_compare(viewer(), terminal_size=(80, 24), run_before=_settle, press=["slash", "a", "n"])


def test_result_sets_dialog_over_the_pane_80x24(snap_compare: Any, viewer: Any) -> None:
    """`X` in the sample pane: the demo's nine result sets, every one ticked, the active one marked."""
    assert snap_compare(viewer(), terminal_size=(80, 24), run_before=_after_keys,
                        press=["W", "j", "w", "w", "x", "X"])
