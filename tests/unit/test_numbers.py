"""Undefined metrics read "–" everywhere: the viewer's status line and pane, the reports, the tables."""

from __future__ import annotations

import math

from blocks_tui.numbers import UNDEFINED, metrics_line, percent
from blocks_tui.render.cells import score
from blocks_tui.tui.model import NodeStats
from blocks_tui.tui.status_text import node_status


def test_percent_and_the_metrics_line() -> None:
    assert percent(0.8125) == "81.2%" and percent(0.05, sign=True) == "+5.0%" and percent(1.0, 0) == "100%"
    assert percent(math.nan) == percent(None) == percent(math.inf) == UNDEFINED
    assert metrics_line(math.nan, 0.5, math.nan) == "P – R 50.0% F1 –"


def test_a_group_nothing_was_predicted_into_has_no_precision_anywhere() -> None:
    """Issue 16: `P nan%` on `colours` in compare mode."""
    stats = NodeStats("colours", 4, 160, 0, 160, 0, math.nan, 0.0, math.nan)
    text = node_status(stats).plain
    assert "nan" not in text and "P –  R 0.0%  F1 –" in text
    assert score(math.nan).plain == score(None).plain == UNDEFINED


def test_the_response_cursor_says_how_its_cell_ranks_and_whether_that_passes_t() -> None:
    from blocks_tui.tui.status_text import neuron_status, threshold_meaning

    passing = neuron_status("vehicles", 12, "rank 1, R = 0.93", 0.41, 0.964, 0.9)
    assert passing.plain.endswith("mean response 0.41, above 96% of its cells")
    span = next(s for s in passing.spans if passing.plain[s.start : s.end] == "96%")
    assert "yellow" in str(span.style)  # at or above T: yellow, as on the map
    failing = neuron_status("vehicles", 12, "rank 1, R = 0.93", 0.41, 0.5, 0.9)
    span = next(s for s in failing.spans if failing.plain[s.start : s.end] == "50%")
    assert "yellow" not in str(span.style)
    assert threshold_meaning(0.9) == " (yellow: each neuron's top 10%)"
    assert threshold_meaning(1.0) == " (yellow: none)"
