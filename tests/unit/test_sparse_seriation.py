"""Seriation, cuts and built hierarchies on a sparse similarity equal the dense ones; the coarse partition is close."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from blocks_tui.analysis import (
    CellCounts,
    adjusted_rand_index,
    auto_partition,
    block_labels,
    build_hierarchy,
    confusion_similarity,
    partition,
    refine,
    seriate,
)
from blocks_tui.analysis.partitioning import best_cut, coarse_partition
from blocks_tui.analysis.seriation import LEAF_LIMIT, METHODS, fiedler_vector
from blocks_tui.analysis.similarity import cells_similarity


def planted(seed: int, n_groups: int = 10, size: int = 30) -> np.ndarray:
    """A confusion similarity with planted groups: dense inside (half the pairs), sparse and weak across."""
    rng = np.random.default_rng(seed)
    n = n_groups * size
    group = np.repeat(np.arange(n_groups), size)
    same = group[:, None] == group[None, :]
    inside = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    across = rng.random((n, n)) * (rng.random((n, n)) < 0.02) * 0.1
    counts = np.rint(100 * np.where(same, inside, across))
    perm = rng.permutation(n)
    return confusion_similarity(counts[np.ix_(perm, perm)])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1])
def test_a_sparse_similarity_builds_the_dense_hierarchy(method: str, seed: int) -> None:
    s = planted(seed)
    dense, sparse = build_hierarchy(s, method=method), build_hierarchy(sp.csr_array(s), method=method)
    assert dense.names == sparse.names
    assert np.array_equal(dense.parent, sparse.parent) and np.array_equal(dense.class_index, sparse.class_index)
    assert len(dense.tree().children(0)) >= 2  # the planted groups were found, not one flat node


@pytest.mark.parametrize("method", METHODS)
def test_sparse_orders_equal_the_dense_ones(method: str) -> None:
    s = planted(3)
    assert np.array_equal(seriate(s, method), seriate(sp.csr_array(s), method))
    assert np.array_equal(seriate(s, method, recursive=True), seriate(sp.csr_array(s), method, recursive=True))
    order = np.arange(len(s))
    blocks = [(0, 100), (100, 300)]
    assert np.array_equal(refine(s, order, blocks, method), refine(sp.csr_array(s), order, blocks, method))


def test_the_fiedler_vector_is_the_same_up_to_sign() -> None:
    s = planted(4, n_groups=3, size=40)
    component = seriate(s)[:40]  # one connected group: the Fiedler vector needs a connected graph
    block = s[np.ix_(component, component)]
    dense, sparse = fiedler_vector(block), fiedler_vector(sp.csr_array(block))
    assert min(np.abs(dense - sparse).max(), np.abs(dense + sparse).max()) < 1e-8


def test_the_sparse_cut_is_the_dense_two_block_partition() -> None:
    rng = np.random.default_rng(5)
    for _ in range(100):
        n = int(rng.integers(2, 40))
        m = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
        m = m + m.T
        np.fill_diagonal(m, 0)
        assert best_cut(sp.csr_array(m)) == partition(m, 2)[0][1]
    with pytest.raises(ValueError, match="two rows"):
        best_cut(sp.csr_array((1, 1)))


def test_the_similarity_of_cells_is_the_dense_one() -> None:
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 50, 4000)
    predicted = np.where(rng.random(4000) < 0.6, labels, rng.integers(0, 50, 4000))
    cells = CellCounts.of_pairs(labels, predicted, 50)
    window = rng.permutation(50)[:35]
    want = confusion_similarity(cells.dense(window, window))
    assert np.array_equal(cells_similarity(cells, window).toarray(), want)


def test_leaf_ordering_refuses_a_sparse_similarity_too_big_to_cluster() -> None:
    n = LEAF_LIMIT + 1
    ring = sp.diags_array([np.ones(n - 1), np.ones(n - 1)], offsets=[1, -1], shape=(n, n)).tocsr()
    with pytest.raises(ValueError, match="use spectral or barycenter"):
        seriate(ring, "leaf")
    assert sorted(seriate(ring, "spectral").tolist()) == list(range(n))


def planted_blocks(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An ordered similarity of 30 contiguous blocks of 20-119 rows (about 2,000 in all), and each row's block."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(30), rng.integers(20, 120, 30))
    n = len(group)
    same = group[:, None] == group[None, :]
    inside = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    m = np.where(same, inside, rng.random((n, n)) * (rng.random((n, n)) < 0.003))
    m = m + m.T
    np.fill_diagonal(m, 0)
    return m, group


def partition_score(m: np.ndarray, blocks: list[tuple[int, int]]) -> float:
    degree = m.sum(axis=1)
    return sum(m[a:b, a:b].sum() / degree[a:b].sum() for a, b in blocks)


def test_the_coarse_partition_is_the_exact_one_up_to_its_bin_count() -> None:
    m, _ = planted_blocks(0)
    small = m[:300, :300]
    assert coarse_partition(sp.csr_array(small), 4, max_bins=300) == partition(small, 4)
    assert coarse_partition(sp.csr_array(small), None, max_bins=300) == auto_partition(small, max_blocks=32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_coarse_partition_of_thousands_of_rows_keeps_the_planted_blocks(seed: int) -> None:
    m, group = planted_blocks(seed)
    exact = partition(m, 30)
    coarse = coarse_partition(sp.csr_array(m), 30, max_bins=256)
    assert len(coarse) == 30 and coarse[0][0] == 0 and coarse[-1][1] == len(m)
    assert partition_score(m, coarse) >= 0.95 * partition_score(m, exact)
    assert adjusted_rand_index(block_labels(coarse), group) >= 0.95
    with pytest.raises(ValueError, match=r"must lie in \[1, 256\]"):
        coarse_partition(sp.csr_array(m), 300, max_bins=256)
