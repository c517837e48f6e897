"""Seriation: exact Robinson recovery, block recovery, optimal leaf ordering, refinement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster import hierarchy as sch
from scipy.spatial.distance import pdist, squareform

from blocks_tui.analysis import (
    adjusted_rand_index,
    block_labels,
    confusion_similarity,
    fiedler_vector,
    min_plus,
    optimal_leaf_order,
    order_cost,
    partition,
    refine,
    seriate,
)


def robinson(n: int, kind: str) -> np.ndarray:
    """A Robinson similarity: it only falls off away from the diagonal."""
    i = np.arange(n)
    gap = np.abs(i[:, None] - i[None, :])
    if kind == "banded":  # zero beyond the band, so sparse; still connected
        return np.maximum(0.0, n / 4 + 1 - gap)
    return np.exp(-gap / (n / 10))


def is_identity_up_to_reversal(order: np.ndarray) -> bool:
    i = np.arange(len(order))
    return bool(np.array_equal(order, i) or np.array_equal(order, i[::-1]))


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 160), st.sampled_from(["banded", "exponential"]), st.integers(0, 2**32 - 1))
def test_spectral_recovers_a_permuted_robinson_matrix_exactly(n: int, kind: str, seed: int) -> None:
    # Sizes on both sides of the dense/Lanczos switch (64 rows).
    perm = np.random.default_rng(seed).permutation(n)
    s = robinson(n, kind)[np.ix_(perm, perm)]
    assert is_identity_up_to_reversal(perm[seriate(s, "spectral")])


@pytest.mark.parametrize("n", [40, 300])
def test_leaf_ordering_also_recovers_robinson_and_barycenter_comes_close(n: int) -> None:
    perm = np.random.default_rng(n).permutation(n)
    s = robinson(n, "exponential")[np.ix_(perm, perm)]
    assert is_identity_up_to_reversal(perm[seriate(s, "leaf")])
    recovered = perm[seriate(s, "barycenter")]
    rho = np.corrcoef(recovered, np.arange(n))[0, 1]
    assert abs(rho) > 0.95


def noisy_blocks(seed: int, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """A permuted block-diagonal similarity: 60% of in-block pairs linked, 3% of the rest, random weights."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    n = len(truth)
    p = np.where(truth[:, None] == truth[None, :], 0.6, 0.03)
    a = np.triu((rng.random((n, n)) < p) * rng.uniform(0.2, 1.0, (n, n)), 1)
    perm = rng.permutation(n)
    return (a + a.T)[np.ix_(perm, perm)], truth[perm]


@pytest.mark.parametrize("method", ["spectral", "barycenter", "leaf"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_blocks_are_recovered_by_recursive_seriation_and_partition(method: str, seed: int) -> None:
    sizes = [12, 25, 10, 18, 14, 21]
    s, truth = noisy_blocks(seed, sizes)
    order = seriate(s, method, recursive=True)
    blocks = partition(s[np.ix_(order, order)], len(sizes))
    assert adjusted_rand_index(block_labels(blocks, order), truth) >= 0.9


def test_spectral_splits_two_groups_in_one_shot() -> None:
    s, truth = noisy_blocks(3, [30, 40])
    order = seriate(s)
    assert adjusted_rand_index(block_labels(partition(s[np.ix_(order, order)], 2), order), truth) >= 0.9


def test_components_are_ordered_separately_and_largest_first() -> None:
    s = np.zeros((7, 7))
    s[np.ix_([1, 4, 6], [1, 4, 6])] = 1.0  # one component of three
    s[0, 5] = s[5, 0] = 2.0  # one of two
    order = seriate(s)  # classes 2 and 3 are isolated
    assert sorted(order[:3].tolist()) == [1, 4, 6]
    assert sorted(order[3:5].tolist()) == [0, 5]
    assert order[5:].tolist() == [2, 3]
    for method in ("barycenter", "leaf"):
        assert sorted(seriate(s, method).tolist()) == list(range(7))


def test_degenerate_inputs() -> None:
    for method in ("spectral", "barycenter", "leaf"):
        assert seriate(np.zeros((0, 0)), method).tolist() == []
        assert seriate(np.zeros((1, 1)), method).tolist() == [0]
        assert sorted(seriate(np.zeros((5, 5)), method).tolist()) == list(range(5))
    with pytest.raises(ValueError, match="method must be one of"):
        seriate(np.eye(3), "tsp")
    with pytest.raises(ValueError, match="similarity must be non-negative"):
        seriate(-np.ones((3, 3)))
    with pytest.raises(ValueError, match="similarity must be a square"):
        seriate(np.ones((3, 4)))
    with pytest.raises(ValueError, match="start is only used"):
        seriate(np.ones((3, 3)), "spectral", start=np.arange(3))


@settings(max_examples=20, deadline=None)
@given(st.integers(5, 40), st.integers(0, 2**32 - 1))
def test_seriation_is_invariant_under_permutation(n: int, seed: int) -> None:
    """Relabelling the rows relabels the order (up to reversal) for tie-free inputs."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    s = np.exp(-squareform(pdist(x)) * 3)  # generic: no ties
    perm = rng.permutation(n)
    for method in ("spectral", "leaf"):
        base = seriate(s, method)
        moved = perm[seriate(s[np.ix_(perm, perm)], method)]
        assert np.array_equal(moved, base) or np.array_equal(moved, base[::-1]), method


def brute_force_cost(linkage: np.ndarray, distance: np.ndarray) -> float:
    best = np.inf
    for flips in itertools.product([False, True], repeat=len(linkage)):
        z = linkage.copy()
        z[list(flips), :2] = z[list(flips), 1::-1]
        best = min(best, order_cost(sch.leaves_list(z), distance))
    return best


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 9), st.sampled_from(["average", "single", "complete", "ward"]), st.integers(0, 2**32 - 1))
def test_leaf_ordering_is_optimal(n: int, method: str, seed: int) -> None:
    x = np.random.default_rng(seed).random((n, 2))
    distance = squareform(pdist(x))
    linkage = sch.linkage(pdist(x), method)
    order = optimal_leaf_order(linkage, distance)
    assert sorted(order.tolist()) == list(range(n))
    assert order_cost(order, distance) == pytest.approx(brute_force_cost(linkage, distance), abs=1e-9)
    # ...and it is an order of that dendrogram: every cluster stays contiguous.
    at = np.argsort(order)
    for members in sch.cut_tree(linkage).T:
        for c in np.unique(members):
            spots = np.sort(at[members == c])
            assert spots[-1] - spots[0] == len(spots) - 1


def test_leaf_ordering_never_loses_to_scipy() -> None:
    x = np.random.default_rng(5).random((120, 4))
    y = pdist(x)
    linkage = sch.linkage(y, "average")
    ours = order_cost(optimal_leaf_order(linkage, squareform(y)), squareform(y))
    theirs = order_cost(sch.leaves_list(sch.optimal_leaf_ordering(linkage, y)), squareform(y))
    assert ours <= theirs + 1e-9


def test_leaf_ordering_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="linkage must be"):
        optimal_leaf_order(np.zeros((3, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="distance must be finite"):
        optimal_leaf_order(np.zeros((1, 4)), np.array([[0, np.nan], [np.nan, 0]]))


@pytest.mark.parametrize("shape", [(3, 1, 4), (7, 3, 5), (2, 6, 1), (9, 9, 9)])
def test_min_plus_matches_a_broadcast(shape: tuple[int, int, int]) -> None:
    p, q, r = shape
    rng = np.random.default_rng(p * q * r)
    a, b = rng.random((p, q)), rng.random((q, r))
    assert np.allclose(min_plus(a, b), (a[:, :, None] + b[None, :, :]).min(axis=1))


def test_refine_reorders_inside_blocks_only() -> None:
    # Two blocks, each a scrambled Robinson matrix; the blocks are already in place.
    inner = robinson(20, "exponential")
    s = np.zeros((40, 40))
    s[:20, :20] = inner
    s[20:, 20:] = inner
    rng = np.random.default_rng(0)
    order = np.concatenate([rng.permutation(20), 20 + rng.permutation(20)])
    for method in ("spectral", "leaf"):
        refined = refine(s, order, [(0, 20), (20, 40)], method)
        assert is_identity_up_to_reversal(refined[:20]) and is_identity_up_to_reversal(refined[20:] - 20)
    with pytest.raises(ValueError, match="blocks must be"):
        refine(s, order, [(0, 30), (20, 40)])
    with pytest.raises(ValueError, match="order must be a permutation"):
        refine(s, np.zeros(40, int), [(0, 40)])


def test_fiedler_vector_is_unit_and_oriented_with_the_input() -> None:
    v = fiedler_vector(robinson(30, "banded"))
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert v[-1] > v[0]  # increasing along an already ordered matrix
    with pytest.raises(ValueError, match="connected"):
        fiedler_vector(np.zeros((3, 3)))


def test_confusion_similarity_by_hand() -> None:
    counts = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    s = confusion_similarity(counts)
    assert s[0, 1] == s[1, 0] == pytest.approx(2 / 10 + 1 / 4)
    assert s.diagonal().tolist() == [0, 0, 0] and s[2].tolist() == [0, 0, 0]
    assert confusion_similarity(counts, normalize=False)[0, 1] == 3
    with pytest.raises(ValueError, match="non-negative"):
        confusion_similarity(-np.eye(2))
