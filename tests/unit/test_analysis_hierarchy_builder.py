"""A hierarchy from recursive seriation: planted levels recovered, adoptable by the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis import Tree, adjusted_rand_index, build_hierarchy, confusion_similarity
from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.cache.tree_arrays import tree_arrays_problem


def nested(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2 groups x 3 subgroups of 6-11 classes; link odds 0.7 in a subgroup, 0.15 in a group, 0.01 across."""
    rng = np.random.default_rng(seed)
    sub = np.repeat(np.arange(6), rng.integers(6, 12, 6))
    group = sub // 3
    n = len(sub)
    odds = np.where(sub[:, None] == sub[None, :], 0.7, np.where(group[:, None] == group[None, :], 0.15, 0.01))
    a = np.triu((rng.random((n, n)) < odds) * rng.uniform(0.2, 1.0, (n, n)), 1)
    perm = rng.permutation(n)
    return (a + a.T)[np.ix_(perm, perm)], group[perm], sub[perm]


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_planted_levels_are_recovered(seed: int) -> None:
    s, group, sub = nested(seed)
    built = build_hierarchy(s)
    tree = built.tree()
    assert len(tree.children(0)) == 2
    assert adjusted_rand_index(tree.ancestor_at_depth(1), group) == 1.0
    assert adjusted_rand_index(tree.ancestor_at_depth(2), sub) >= 0.9
    assert np.array_equal(built.order, tree.order)
    assert built.names[0] == "all" and built.names[1] == "block 1"


def test_output_is_valid_pre_order_arrays_for_every_method() -> None:
    s, _, _ = nested(1)
    names = [f"c{i}" for i in range(len(s))]
    for method in ("spectral", "barycenter", "leaf"):
        built = build_hierarchy(s, names, method=method)
        assert tree_arrays_problem(built.parent, built.class_index, len(s)) is None
        leaves = built.class_index >= 0
        assert sorted(built.class_index[leaves].tolist()) == list(range(len(s)))
        assert [built.names[i] for i in np.flatnonzero(leaves)] == [names[c] for c in built.order]


def test_structureless_and_tiny_inputs() -> None:
    flat = build_hierarchy(np.ones((6, 6)))
    assert flat.parent.tolist() == [-1, 0, 0, 0, 0, 0, 0]  # nothing to split: one group
    one = build_hierarchy(np.zeros((1, 1)), ["only"])
    assert one.names == ["only"] and one.class_index.tolist() == [0]
    apart = build_hierarchy(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], float))
    assert len(apart.tree().children(0)) == 2  # two disconnected pairs
    with pytest.raises(ValueError, match="class_names has 2 names for 4 classes"):
        build_hierarchy(np.eye(4), ["a", "b"])
    with pytest.raises(ValueError, match="min_ratio"):
        build_hierarchy(np.eye(4), min_ratio=0.5)


def test_the_cache_adopts_it_with_source_seriation(tmp_path: Path) -> None:
    s, _, _ = nested(0)
    n = len(s)
    counts = np.round(s * 10).astype(int) + np.diag(np.full(n, 20))
    built = build_hierarchy(confusion_similarity(counts), [f"class {i}" for i in range(n)])
    labels = np.arange(n)
    with CacheWriter(tmp_path / "adopt.h5", config={"model": "test"}) as w:
        w.write_classes([f"class {i}" for i in range(n)])
        w.write_hierarchy(built.names, built.parent, built.class_index, source=built.source)
        w.write_samples(labels, [str(i) for i in labels], np.zeros((n, 48, 48, 3), np.uint8))
        w.write_result_set("original", np.tile(labels[:, None], (1, 5)), np.full((n, 5), 0.2), np.full(n, 0.2))
    with open_cache(tmp_path / "adopt.h5") as cache:
        h = cache.hierarchy
        assert h.source == "seriation"
        tree = Tree.from_hierarchy(h)
        assert np.array_equal(tree.order, built.order)
