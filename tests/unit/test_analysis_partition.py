"""Block partitioning: exact against brute force, modularity, labels, blocks from a hierarchy level."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocks_tui.analysis import Tree, auto_partition, block_labels, modularity, partition
from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT


def score(matrix: np.ndarray, blocks: list[tuple[int, int]]) -> float:
    """Σ W(B)/vol(B), written the slow way."""
    total = 0.0
    for a, b in blocks:
        volume = matrix[a:b, :].sum()
        total += matrix[a:b, a:b].sum() / volume if volume else 0.0
    return total


def all_partitions(n: int, k: int):
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        yield [(bounds[i], bounds[i + 1]) for i in range(k)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.data())
def test_partition_is_exact(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    m = rng.random((n, n)) * (rng.random((n, n)) < 0.5)  # zero rows too
    m = m + m.T
    np.fill_diagonal(m, 0)
    blocks = partition(m, k)
    assert len(blocks) == k and blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(a < b for a, b in blocks) and all(x[1] == y[0] for x, y in zip(blocks, blocks[1:]))
    best = max(score(m, p) for p in all_partitions(n, k))
    assert score(m, blocks) == pytest.approx(best)


def test_partition_finds_planted_blocks_exactly() -> None:
    m = np.full((9, 9), 0.1)
    for a, b in [(0, 2), (2, 6), (6, 9)]:
        m[a:b, a:b] = 1.0
    np.fill_diagonal(m, 0)
    assert partition(m, 3) == [(0, 2), (2, 6), (6, 9)]
    assert auto_partition(m, 5) == [(0, 2), (2, 6), (6, 9)]
    assert modularity(m, [(0, 2), (2, 6), (6, 9)]) > modularity(m, [(0, 6), (6, 9)]) > 0


def test_a_weakly_linked_split_beats_peeling_off_a_tight_group() -> None:
    """Two groups barely confused with each other; inside the first, a tight subgroup of two."""
    m = np.zeros((8, 8))
    m[:4, :4] = 0.3
    m[:2, :2] = 3.0
    m[4:, 4:] = 0.3
    m[3, 4] = m[4, 3] = 0.01
    np.fill_diagonal(m, 0)
    assert partition(m, 2) == [(0, 4), (4, 8)]


def test_zero_matrix_and_bad_counts() -> None:
    assert partition(np.zeros((4, 4)), 2) == [(0, 1), (1, 4)]  # ties: earliest cut
    assert modularity(np.zeros((3, 3)), [(0, 3)]) == 0.0
    assert partition(np.zeros((0, 0)), 1) == []
    with pytest.raises(ValueError, match=r"n_blocks must lie in \[1, 4\]"):
        partition(np.eye(4), 5)
    with pytest.raises(ValueError, match="n_blocks"):
        partition(np.eye(4), 0)
    with pytest.raises(ValueError, match="max_blocks"):
        auto_partition(np.eye(4), 0)
    with pytest.raises(ValueError, match="matrix must be finite"):
        partition(np.full((2, 2), np.inf), 1)


def test_block_labels() -> None:
    assert block_labels([(0, 2), (2, 5)]).tolist() == [0, 0, 1, 1, 1]
    assert block_labels([(0, 2), (2, 5)], np.array([4, 0, 1, 2, 3])).tolist() == [0, 1, 1, 1, 0]
    with pytest.raises(ValueError, match="cover"):
        block_labels([(0, 2), (3, 5)])


def test_blocks_from_a_hierarchy_level() -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    assert tree.level_blocks(0) == [(0, 5)]
    assert tree.level_blocks(1) == [(0, 2), (2, 5)]
    assert tree.level_blocks(2) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    with pytest.raises(ValueError, match="depth"):
        tree.level_blocks(-1)
