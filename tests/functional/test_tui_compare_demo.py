"""On the demo, comparing result sets finds the groups the generator made colour- and orientation-bound."""

from __future__ import annotations

from pathlib import Path

from blocks_tui.cache import open_cache
from blocks_tui.tui.jobs import compute_changes
from blocks_tui.tui.model import ViewerModel


def test_grayscale_ranks_the_colour_group_first_and_rot90_the_orientation_group(demo_cache: Path) -> None:
    with open_cache(demo_cache) as cache:
        model = ViewerModel.open(cache)
        truth = cache.ground_truth()  # only the test reads what was planted
        for variant, group in (("grayscale", truth["colour_group"]), ("rot90", truth["orientation_group"])):
            ranking = compute_changes(cache, model.base, model.filters, "original", variant, "recall")
            first = int(ranking.change.ranked[0])
            assert model.base.names[first] == group, variant
            assert ranking.change.change[first] < -0.3  # a drop, and a large one
