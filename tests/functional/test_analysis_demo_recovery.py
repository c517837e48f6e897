"""On the demo cache, seriation without the hierarchy finds its two top-level groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis import (
    Tree,
    adjusted_rand_index,
    block_labels,
    build_hierarchy,
    confusion_matrix,
    confusion_similarity,
    partition,
    seriate,
)
from blocks_tui.cache import open_cache


@pytest.mark.slow
def test_seriation_recovers_the_two_top_level_groups(demo_cache: Path) -> None:
    with open_cache(demo_cache) as cache:
        labels = cache.labels
        predicted = cache.result("original").predicted
        h = cache.hierarchy
        truth = cache.ground_truth()  # only to know the data set is the demo
        n = cache.n_classes
    assert truth
    tree = Tree.from_hierarchy(h)
    top = tree.ancestor_at_depth(1)
    assert sorted(tree.names[c] for c in tree.children(0)) == ["artifacts", "natural"]

    # Only the confusions: no hierarchy, no ground truth from here on.
    similarity = confusion_similarity(confusion_matrix(labels, predicted, n))
    for method in ("spectral", "leaf"):
        order = seriate(similarity, method)
        blocks = partition(similarity[np.ix_(order, order)], 2)
        assert adjusted_rand_index(block_labels(blocks, order), top) >= 0.8, method
    built = build_hierarchy(similarity).tree()
    assert adjusted_rand_index(built.ancestor_at_depth(1), top) >= 0.8
