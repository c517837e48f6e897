"""Responses: relevance (Eq. 2) against np.quantile, top neurons and samples, node means, subclasses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocks_tui.analysis import (
    ResponseIndex,
    Tree,
    adjusted_rand_index,
    latent_subclasses,
    node_average_response,
    peak_channel_order,
    response_correlation,
    response_map,
    top_activating,
    top_neurons,
)
from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT


def reference(x: np.ndarray, group: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    q_in = np.quantile(x[group].astype(np.float64), 0.25, axis=0)
    q_out = np.quantile(x[~group].astype(np.float64), 0.75, axis=0)
    scale = q_out.max() if np.any(q_out > 0) else 1.0
    return q_in / np.maximum(q_out, eps * scale)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 60), st.integers(1, 4), st.sampled_from([np.float16, np.float32]), st.integers(0, 2**32 - 1))
def test_relevance_is_exactly_eq2(n: int, channels: int, dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct values, negatives and zeros: ties everywhere, as after a ReLU.
    x = (rng.integers(-2, 5, (n, channels)) * rng.choice([0.5, 1.0])).astype(dtype)
    group = rng.random(n) < rng.uniform(0.05, 0.95)
    if group.all() or not group.any():
        assert np.isnan(ResponseIndex(x).relevance(group)).all()
        return
    assert np.allclose(ResponseIndex(x).relevance(group), reference(x, group))


def test_relevance_large_and_small_groups_match_numpy() -> None:
    rng = np.random.default_rng(0)
    x = np.maximum(rng.normal(size=(3000, 16)), 0).astype(np.float16)
    index = ResponseIndex(x)
    for share in (0.01, 0.3, 0.7, 0.99):  # either side may be the smaller one
        group = rng.random(3000) < share
        assert np.allclose(index.relevance(group), reference(x, group))


def test_guarded_denominator_and_bad_arguments() -> None:
    x = np.zeros((8, 3), dtype=np.float16)
    x[:4, 1] = 2.0  # channel 1 fires only in the group: the out-group quartile is 0
    group = np.arange(8) < 4
    r = ResponseIndex(x).relevance(group)
    assert np.isfinite(r).all()
    assert r[0] == 0.0 and r[2] == 0.0  # silent everywhere: 0, not nan
    assert r[1] == pytest.approx(2.0 / 1e-3)  # no positive out-quartile anywhere: floor eps * 1
    with pytest.raises(ValueError, match="in_group must be"):
        ResponseIndex(x).relevance(np.ones(7, bool))
    with pytest.raises(ValueError, match="eps"):
        ResponseIndex(x).relevance(group, eps=0)
    with pytest.raises(ValueError, match="collective must be"):
        ResponseIndex(np.zeros(4))


def test_top_neurons_find_the_planted_ones() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 2000)
    x = rng.random((2000, 64)).astype(np.float32)
    x[labels == 3, 17] += 3.0
    x[labels == 3, 40] += 2.0
    channels, scores = top_neurons(ResponseIndex(x.astype(np.float16)), labels == 3, n=2)
    assert channels.tolist() == [17, 40] and scores[0] > scores[1] > 1
    assert top_neurons(ResponseIndex(x), labels == 99, n=3)[0].size == 0  # empty group: nothing to rank


def test_top_activating_samples() -> None:
    x = np.zeros((10, 2), dtype=np.float16)
    x[[7, 2, 5], 1] = [3.0, 2.0, 3.0]
    assert top_activating(x, 1, 3).tolist() == [5, 7, 2]  # ties by sample index
    assert top_activating(x, 1, 2, samples=np.array([2, 3, 7])).tolist() == [7, 2]
    assert len(top_activating(x, 0, 50)) == 10
    with pytest.raises(ValueError, match="neuron"):
        top_activating(x, 2)


def test_node_average_response_by_hand() -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    labels = np.array([0, 0, 1, 2, 2, 2])  # cat cat dog car car car; no bus or van
    x = np.array([[1, 0], [3, 0], [5, 1], [0, 2], [0, 2], [0, 8]], dtype=np.float16)
    one = node_average_response(tree, labels, x, neuron=0)
    assert one[tree.node_index("animals")] == pytest.approx(3.0)
    assert one[tree.node_index("cat")] == pytest.approx(2.0)
    assert one[0] == pytest.approx(1.5)
    assert np.isnan(one[tree.node_index("bus")])
    both = node_average_response(tree, labels, x)
    assert both.shape == (tree.n_nodes, 2)
    assert np.allclose(both[:, 0], one, equal_nan=True)
    assert both[tree.node_index("vehicles"), 1] == pytest.approx(4.0)


def test_response_map_and_peak_order() -> None:
    class_mean = np.zeros((3, 4, 2, 2), dtype=np.float32)
    class_mean[0, 2] = 1.0  # class 0 peaks on channel 2
    class_mean[1, 0] = 0.5
    class_mean[2, 3] = 0.25
    class_mean[2, 1] = 0.1
    order = np.array([2, 0, 1])
    rm = response_map(class_mean, order)
    assert rm.shape == (3, 4) and rm[1, 2] == 4.0 and rm[0, 3] == 1.0
    assert peak_channel_order(rm).tolist() == [3, 1, 2, 0]  # by peak row 0, 0, 1, 2; strongest first
    with pytest.raises(ValueError, match="order must have"):
        response_map(class_mean, np.array([0, 1]))


def test_latent_subclasses_recover_two_kinds() -> None:
    rng = np.random.default_rng(2)
    kind = rng.random(60) < 0.4
    base = rng.random(128)
    responses = base + 0.3 * rng.random((60, 128))
    responses[np.ix_(kind, np.arange(0, 20))] += 1.5
    responses[np.ix_(~kind, np.arange(20, 40))] += 1.5
    ids = np.arange(100, 160)
    found = latent_subclasses(responses, ids)
    assert len(found.blocks) == 2
    truth = kind[found.samples - 100]
    assert adjusted_rand_index(found.subclass_of(), truth) >= 0.9
    fixed = latent_subclasses(responses, ids, n_blocks=3)
    assert len(fixed.blocks) == 3 and sorted(fixed.samples.tolist()) == ids.tolist()
    c = found.correlation
    assert c.shape == (60, 60) and np.allclose(c, c.T) and np.allclose(np.diag(c), 1)


def test_response_correlation_guards_silent_samples() -> None:
    c = response_correlation(np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    assert c[0].tolist() == [1.0, 0.0, 0.0]
    assert c[1, 2] == pytest.approx(-1.0)
    assert latent_subclasses(np.zeros((0, 4))).blocks == []
