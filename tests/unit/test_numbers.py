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
