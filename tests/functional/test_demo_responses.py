"""On the demo, the response map draws a group's most relevant neuron yellow on the group's rows and
blue elsewhere (paper Fig. 3): the figure ``bench demo`` reports, checked on the fast configuration."""

from __future__ import annotations

from pathlib import Path

from blocks_tui.analysis.response_view import DEFAULT_THRESHOLD
from blocks_tui.cache import open_cache
from blocks_tui.demo.response_checks import CONTRAST_GOAL, group_contrasts


def test_relevant_neurons_stand_out_on_their_groups_rows(demo_cache: Path) -> None:
    with open_cache(demo_cache) as cache:
        last = cache.layer_names[-1]
        rows = group_contrasts(cache, DEFAULT_THRESHOLD)
    groups = {r.group for r in rows}
    assert {"artifacts", "natural", "polygons", "arrows", "colours", "sea"} <= groups
    at_last = [r for r in rows if r.layer == last]
    assert len(at_last) == len(groups)
    weak = [f"{r.group} {r.inside:.2f}/{r.outside:.2f}" for r in at_last if not r.ratio >= CONTRAST_GOAL]
    assert not weak, f"at {last}, yellow inside/outside the group's rows below {CONTRAST_GOAL}x: {weak}"
    assert all(r.inside > 0 for r in at_last)
