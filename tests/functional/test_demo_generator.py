"""The synthetic data set: deterministic, a valid deep hierarchy, and exactly
the planted properties its ground truth claims."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from blocks_tui.synthetic.generator import (
    COLOUR_LUMA,
    DESATURATED_FRACTION,
    LABEL_NOISE_RATE,
    SIZE,
    DemoSpec,
    default_spec,
    equal_luma_colour,
    ground_truth,
    luma,
    make_split,
    render,
)


@pytest.fixture(scope="module")
def spec() -> DemoSpec:
    return default_spec()


def _depth(spec: DemoSpec, node: int) -> int:
    depth = 0
    while spec.parent[node] >= 0:
        node, depth = int(spec.parent[node]), depth + 1
    return depth


def _mid_level(spec: DemoSpec, class_idx: int) -> str:
    """Name of the depth-2 ancestor of a class (polygons, rings, plants, ...)."""
    node = int(np.flatnonzero(spec.class_index == class_idx)[0])
    while _depth(spec, node) > 2:
        node = int(spec.parent[node])
    return spec.node_names[node]


def test_same_seed_same_bytes_different_seed_different(spec: DemoSpec) -> None:
    a = make_split(spec, 3, seed=7, label_noise=0.1)
    b = make_split(spec, 3, seed=7, label_noise=0.1)
    c = make_split(spec, 3, seed=8, label_noise=0.1)
    assert a.images.tobytes() == b.images.tobytes()
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.images.shape == (3 * spec.n_classes, SIZE, SIZE, 3) and a.images.dtype == np.uint8
    assert (a.images != c.images).any(axis=(1, 2, 3)).all()  # every image differs
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    assert render(5, rng1).tobytes() == render(5, rng2).tobytes()


def test_a_class_does_not_depend_on_the_split_size(spec: DemoSpec) -> None:
    small, large = make_split(spec, 2, seed=1), make_split(spec, 4, seed=1)
    for c in (0, spec.n_classes - 1):
        np.testing.assert_array_equal(small.images[2 * c : 2 * c + 2], large.images[4 * c : 4 * c + 2])


def test_hierarchy_arrays_are_a_valid_deep_tree(spec: DemoSpec) -> None:
    parent, class_index = spec.parent, spec.class_index
    n_nodes = len(spec.node_names)
    assert len(parent) == len(class_index) == n_nodes
    assert np.flatnonzero(parent == -1).tolist() == [0]  # one root, first
    assert (parent[1:] < np.arange(1, n_nodes)).all()  # depth-first pre-order
    has_children = np.zeros(n_nodes, dtype=bool)
    has_children[parent[1:]] = True
    assert ((class_index >= 0) == ~has_children).all()  # leaves are exactly the classes
    leaves = class_index[class_index >= 0]
    assert leaves.tolist() == list(range(spec.n_classes))  # each class once, in DFS leaf order
    assert spec.n_classes >= 30
    assert max(_depth(spec, i) for i in range(n_nodes)) >= 4  # >= 3 levels below the root, plus leaves
    assert sorted(spec.node_names[i] for i in np.flatnonzero(parent == 0)) == ["artifacts", "natural"]
    assert len(set(spec.node_names)) == n_nodes
    assert spec.class_names == [spec.node_names[i] for i in np.flatnonzero(class_index >= 0)]


def test_redundant_pair_shares_a_generator_in_distant_branches(spec: DemoSpec) -> None:
    a, b = (spec.class_id(n) for n in spec.redundant_pair)
    assert spec.classes[a].recipe == spec.classes[b].recipe
    top = spec.top_level_of_class
    assert top[a] == top[b]
    assert _mid_level(spec, a) != _mid_level(spec, b)
    recipes = [c.recipe for c in spec.classes]
    assert len(set(recipes)) == len(recipes) - 1  # the only pair of identical classes


def test_subclass_is_a_restriction_of_the_general_class(spec: DemoSpec) -> None:
    general, special = (spec.classes[spec.class_id(n)] for n in spec.subclass_pair)
    assert general.kind == special.kind == "flower"
    for key in ("petals", "width"):
        g_lo, g_hi = general.params[key]
        s_lo, s_hi = special.params[key]
        assert g_lo <= s_lo <= s_hi <= g_hi and (s_lo, s_hi) != (g_lo, g_hi), key
    assert special.params["near_only"] and not general.params.get("near_only")  # distance too
    ids = [spec.class_id(n) for n in spec.subclass_pair]
    assert _mid_level(spec, ids[0]) != _mid_level(spec, ids[1])


def test_planted_label_noise_rate_and_flips_go_to_siblings_and_some_cousins(spec: DemoSpec) -> None:
    split = make_split(spec, 30, seed=4, label_noise=LABEL_NOISE_RATE)
    rate = split.flipped.mean()
    assert 0.02 <= rate <= 0.03
    np.testing.assert_array_equal(split.labels != split.true_labels, split.flipped)
    top = spec.top_level_of_class
    assert (top[split.labels] == top[split.true_labels]).all()  # never across the top level
    parent = spec.parent_of_class
    sibling = (parent[split.labels] == parent[split.true_labels])[split.flipped]
    assert 0.6 <= sibling.mean() <= 0.95  # siblings mostly, cousins (COUSIN_FLIP_SHARE) sometimes
    assert spec.siblings_of_class[spec.class_id("triangle")].tolist() == [spec.class_id("square")]
    cousins = spec.cousins_of_class[spec.class_id("triangle")]
    assert spec.class_id("square") not in cousins and spec.class_id("pentagon") in cousins
    assert not set(cousins) & set(spec.classes_under("natural").tolist())
    clean = make_split(spec, 30, seed=4)
    assert not clean.flipped.any() and (clean.labels == clean.true_labels).all()
    np.testing.assert_array_equal(clean.images, split.images)  # noise touches labels only


def test_colour_group_hues_have_near_equal_luma(spec: DemoSpec) -> None:
    colour_classes = spec.classes_under(spec.colour_group)
    assert len(colour_classes) >= 3
    lumas = [float(luma(equal_luma_colour(spec.classes[c].params["hue"]))) for c in colour_classes]
    assert max(abs(v - COLOUR_LUMA) for v in lumas) < 2.0
    # ...and they are clearly different colours
    colours = np.array([equal_luma_colour(spec.classes[c].params["hue"]) for c in colour_classes])
    assert min(np.abs(colours[i] - colours[j]).max() for i in range(len(colours)) for j in range(i)) > 60


def test_grayscale_is_in_distribution_except_for_the_colour_group(spec: DemoSpec) -> None:
    colour_classes = set(spec.classes_under(spec.colour_group).tolist())
    for c in (spec.class_id("hexagon"), spec.class_id("coral"), spec.class_id("stripes"), *colour_classes):
        rng = np.random.default_rng(c)
        images = np.stack([render(c, rng, spec) for _ in range(150)]).astype(int)
        gray = ((images[..., 0] == images[..., 1]) & (images[..., 1] == images[..., 2])).all(axis=(1, 2))
        if c in colour_classes:
            assert not gray.any()
        else:
            assert abs(gray.mean() - DESATURATED_FRACTION) < 0.1


def test_ground_truth_is_json_and_says_what_was_planted(spec: DemoSpec) -> None:
    split = make_split(spec, 10, seed=2, label_noise=LABEL_NOISE_RATE)
    truth = json.loads(json.dumps(ground_truth(spec, split)))
    assert truth["top_level_groups"] == ["artifacts", "natural"]
    assert truth["colour_group"] in spec.node_names and truth["orientation_group"] in spec.node_names
    assert [spec.class_names[i] for i in truth["redundant_pair"]] == list(spec.redundant_pair)
    assert spec.class_names[truth["subclass_pair"]["special"]] == spec.subclass_pair[1]
    mislabeled = truth["mislabeled"]
    assert mislabeled["indices"] == np.flatnonzero(split.flipped).tolist()
    assert mislabeled["true_class"] == split.true_labels[split.flipped].tolist()
    assert mislabeled["stored_class"] == split.labels[split.flipped].tolist()


def test_generator_imports_without_torch() -> None:
    code = "import sys, blocks_tui.synthetic.generator; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
