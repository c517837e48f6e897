"""The realistic-scale synthetic data set: what it plants, the analysis finds; its cache opens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis import (
    ResponseIndex,
    Tree,
    adjusted_rand_index,
    block_outliers,
    confusion_matrix,
    latent_subclasses,
    mislabel_candidates,
    top_neurons,
    within_group_fraction,
)
from blocks_tui.cache import open_cache
from blocks_tui.synthetic.scale import generate, random_hierarchy, write_synthetic_cache


@pytest.fixture(scope="module")
def data():
    return generate(n_classes=120, n_samples=4000, channels=(16, 32, 64, 128), seed=0)


def tree_of(data) -> Tree:
    h = data.hierarchy
    return Tree.from_hierarchy(h)


def test_hierarchy_is_deep_and_not_in_index_order(data) -> None:
    tree = tree_of(data)
    assert tree.n_classes == 120 and tree.depth.max() >= 5
    assert not np.array_equal(tree.order, np.arange(120))
    big = Tree.from_arrays(*(lambda h: (h.names, h.parent, h.class_index))(random_hierarchy(1000, np.random.default_rng(3))))
    assert big.depth.max() >= 8 and big.n_nodes > 1200


def test_confusions_concentrate_in_nested_blocks(data) -> None:
    tree = tree_of(data)
    matrix = confusion_matrix(data.labels, data.topk_index[:, 0], 120)
    accuracy = np.trace(matrix) / matrix.sum()
    assert 0.6 < accuracy < 0.8
    assert within_group_fraction(matrix, tree, depth=1) > 0.85  # the top-level groups hold the confusions
    assert within_group_fraction(matrix, tree, depth=2) > 0.5  # and blocks nest inside them
    assert (data.topk_index == data.labels[:, None]).any(axis=1).mean() > accuracy + 0.1  # top-5 beats top-1
    assert np.all(np.diff(data.topk_prob, axis=1) <= 0) and np.all(data.topk_prob.sum(axis=1) <= 1 + 1e-6)


def test_planted_outliers_and_mislabels_are_found(data) -> None:
    tree = tree_of(data)
    truth = data.ground_truth
    matrix = confusion_matrix(data.labels, data.topk_index[:, 0], 120)
    pairs = {frozenset(p) for p in truth["outlier_pairs"]}
    found = block_outliers(matrix, tree.level_blocks(1), tree.order, tree, by="surprise", min_count=2,
                           limit=2 * len(pairs))
    assert {frozenset(p) for p in zip(found.true.tolist(), found.predicted.tolist())} == pairs
    assert np.all(found.common_ancestor == 0)  # planted across top-level groups: the root
    candidates = mislabel_candidates(data.labels, data.topk_index, data.topk_prob, data.true_prob)
    planted = set(truth["mislabeled_samples"])
    assert planted and planted <= set(candidates.sample.tolist())
    assert len(planted) / len(candidates) > 0.8


def test_channels_follow_hierarchy_nodes_and_subclasses_are_latent(data) -> None:
    tree = tree_of(data)
    layer = data.layers[-1]
    index = ResponseIndex(layer.collective)
    leaf = tree.leaf_of_class()
    hits = []
    for c in range(120):
        # Classes with a channel of their own, or of a small ancestor (a big one fires too often outside).
        own = [v for v in tree.path(int(leaf[c])) if tree.size(v) <= 6 and v in layer.channel_node]
        if own:
            best, _ = top_neurons(index, data.labels == c, n=1)
            hits.append(int(layer.channel_node[best[0]]) in own)
    assert len(hits) >= 20 and np.mean(hits) >= 0.9
    for c, second in data.ground_truth["subclasses"].items():
        members = np.flatnonzero(data.labels == int(c))
        found = latent_subclasses(layer.collective[members], members)
        assert adjusted_rand_index(found.subclass_of(), np.isin(found.samples, second)) >= 0.8


def test_written_cache_opens_with_four_layers(tmp_path: Path) -> None:
    small = generate(n_classes=30, n_samples=300, channels=(8, 16, 32, 64), seed=1)
    path = write_synthetic_cache(tmp_path / "s.h5", small)
    # Issue 17: the writer streams each layer block by block; it never builds a layer's whole responses.
    assert all("collective" not in layer.__dict__ for layer in small.layers)
    with open_cache(path) as cache:
        for layer in small.layers:  # the streamed blocks are the responses, and their class means
            assert np.array_equal(cache.layer(layer.name).collective(), layer.collective)
            assert np.allclose(cache.layer(layer.name).class_mean(), layer.class_mean, rtol=1e-6)
        assert (cache.n_classes, cache.n_samples) == (30, 300)
        assert cache.layer_names == ["layer1", "layer2", "layer3", "layer4"]
        assert cache.layer("layer4").channels == 64 and cache.layer("layer1").d == 4
        assert np.array_equal(cache.labels, small.labels)
        assert cache.ground_truth()["outlier_pairs"] == small.ground_truth["outlier_pairs"]
        class_mean = cache.layer("layer2").class_mean()
        by_hand = np.stack([small.layers[1].collective[small.labels == c].astype(np.float64).mean(0)
                            for c in range(30)])
        assert np.allclose(class_mean.sum(axis=(2, 3)), by_hand, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"n_classes": 1}, "n_classes"), ({"n_samples": 5, "n_classes": 10}, "n_samples"),
     ({"channels": (1, 2, 3, 4, 5)}, "at most 4 layers"), ({"error_rate": 1.0}, "error_rate"),
     ({"closeness": 0.0}, "closeness")],
)
def test_bad_sizes_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**{"n_classes": 10, "n_samples": 100, "channels": (4,), **kwargs})


def test_blocks_are_reproducible_and_independent_of_how_they_are_read() -> None:
    """Each block has its own seeded generator: the same responses whether written or built whole."""
    data = generate(n_classes=40, n_samples=5000, channels=(2048,), seed=3)
    layer = data.layers[0]
    assert layer.block_rows == 2048  # 16 MiB of float32 per block
    blocks = list(layer.blocks())
    assert [first for first, _ in blocks] == [0, 2048, 4096]
    again = generate(n_classes=40, n_samples=5000, channels=(2048,), seed=3).layers[0]
    assert np.array_equal(np.concatenate([v for _, v in blocks]).astype(np.float16), again.collective)
