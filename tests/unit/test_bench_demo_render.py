"""``bench demo`` prints the planted checks and the response map's contrast per layer and group."""

from __future__ import annotations

import io

from rich.console import Console

from blocks_tui.bench.demo import DemoBench
from blocks_tui.demo.checks import PlantedCheck
from blocks_tui.demo.response_checks import GroupContrast
from blocks_tui.render.bench import render_demo_bench


def test_the_contrast_table_has_a_column_per_layer_and_the_goal_reads_the_last() -> None:
    checks = [PlantedCheck("confusions inside the depth-2 groups", 78.3, ">= 70", True)]
    contrasts = [GroupContrast("stage1", "natural", 1, 3, 0.1, 0.2), GroupContrast("stage1", "plants", 2, 4, 0.3, 0.1),
                 GroupContrast("stage2", "natural", 1, 5, 0.4, 0.0), GroupContrast("stage2", "plants", 2, 6, 0.5, 0.1)]
    result = DemoBench(30.0, checks, contrasts)
    assert [c.layer for c in result.last_layer] == ["stage2", "stage2"]
    assert result.passed  # stage1's 0.5x does not count: the goal is the last layer's
    out = io.StringIO()
    render_demo_bench(Console(file=out, width=160), result, False, 90.0)
    text = out.getvalue()
    assert "78.3" in text and "goal >= 3x at stage2" in " ".join(text.split())  # titles wrap to the table
    plants = next(line for line in text.splitlines() if "plants" in line)
    assert "3.0x" in plants and "5.0x" in plants
    natural = next(line for line in text.splitlines() if "natural" in line and "0.5x" in line)
    assert "only in" in natural  # yellow inside the group's rows and nowhere else
    weak = DemoBench(30.0, checks, contrasts[:2] + [GroupContrast("stage2", "natural", 1, 5, 0.2, 0.1)])
    assert not weak.passed
