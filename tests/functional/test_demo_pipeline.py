"""The demo's fast configuration, built once per session (``demo_cache`` in
conftest), shows every planted property — measured with the same analysis
functions the viewer uses, and only checked against the ground truth here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blocks_tui.analysis.confusion import confusion_matrix
from blocks_tui.analysis.hierarchy import Tree
from blocks_tui.cache import open_cache
from blocks_tui.demo.checks import planted_checks, shape_groups
from blocks_tui.demo.pipeline import DemoConfig, checkpoint_name, evaluate, load_checkpoint
from blocks_tui.synthetic.demo_data import make_eval_split

SHAPE_GROUPS = ("polygons", "rings", "rods", "textures", "plants", "sea")


@pytest.fixture(scope="module")
def demo(demo_cache: Path) -> dict[str, Any]:
    with open_cache(demo_cache) as cache:
        h = cache.hierarchy
        return {
            "path": demo_cache,
            "labels": cache.labels,
            "names": cache.class_names,
            "tree": Tree.from_hierarchy(h),
            "source": h.source,
            "predicted": {name: cache.result(name).predicted for name in cache.result_names},
            "attrs": {name: cache.result(name).attrs for name in cache.result_names},
            "truth": cache.ground_truth(),
            "config": cache.config,
            "layers": {name: cache.layer(name) for name in cache.layer_names},
            "class_mean": {name: cache.layer(name).class_mean() for name in cache.layer_names},
            "collective": {name: cache.layer(name).collective() for name in cache.layer_names},
            "thumbnail_shape": cache.thumbnail_shape,
            "sources": cache.sources[:2],
            "topk": cache.result("original").topk_index,
        }


def test_cache_contents(demo: dict[str, Any]) -> None:
    assert {"original", "epoch-1", "epoch-2", "grayscale", "rot90"} <= set(demo["predicted"])
    assert demo["attrs"]["grayscale"]["transform"] == "grayscale"
    assert demo["attrs"]["epoch-1"]["epoch"] == 1
    assert demo["thumbnail_shape"] == (48, 48, 3)
    assert demo["sources"] == ["demo:eval/000000", "demo:eval/000001"]
    assert demo["source"] == "demo"
    assert demo["config"]["model"] == "demo-cnn" and demo["config"]["dataset"] == "demo"
    assert len(demo["layers"]) >= 3
    n, n_classes = len(demo["labels"]), len(demo["names"])
    for name, layer in demo["layers"].items():
        channels = layer.channels
        assert layer.d == demo["config"]["d"] and len(layer.output_shape) == 3
        assert demo["class_mean"][name].shape == (n_classes, channels, layer.d, layer.d)
        assert demo["collective"][name].shape == (n, channels)
        assert demo["collective"][name].dtype == np.float16


def test_a_checkpoint_per_epoch_reproduces_the_cache(demo: dict[str, Any]) -> None:
    epochs = demo["config"]["epochs"]
    folder = Path(demo["config"]["checkpoint_dir"])
    assert [p.name for p in sorted(folder.glob("epoch-*.pt"), key=lambda p: int(p.stem[6:]))] == [
        checkpoint_name(e) for e in range(1, epochs + 1)
    ]
    raw = demo["config"]["demo_config"]
    config = DemoConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    split = make_eval_split(config)
    np.testing.assert_array_equal(split.labels, demo["labels"])
    model = load_checkpoint(folder / checkpoint_name(epochs), len(demo["names"]), config.channels)
    again = evaluate(model, split, config, "original")
    np.testing.assert_array_equal(again.topk_index, demo["topk"])


def test_learning_curve(demo: dict[str, Any]) -> None:
    labels, predicted = demo["labels"], demo["predicted"]
    accuracy = {name: float((p == labels).mean()) for name, p in predicted.items()}
    assert accuracy["epoch-1"] < accuracy["epoch-2"] < accuracy["original"]


def test_planted_properties(demo: dict[str, Any]) -> None:
    """Accuracy >= 85%, >= 90% of confusions inside the top-level groups, and grayscale/rot90
    each dropping their planted group by >= 30 points and every shape group by <= 10."""
    assert shape_groups(demo["tree"], "colours", "arrows") == list(SHAPE_GROUPS)
    with open_cache(demo["path"]) as cache:
        checks = planted_checks(cache)
    assert len(checks) == 9
    failed = [f"{c.name}: {c.value:.1f} (goal {c.goal})" for c in checks if not c.passed]
    assert not failed, failed


def test_planted_pairs_and_mislabeled_samples_show(demo: dict[str, Any]) -> None:
    labels, predicted, truth = demo["labels"], demo["predicted"]["original"], demo["truth"]
    cm = confusion_matrix(labels, predicted, len(demo["names"]))
    a, b = truth["redundant_pair"]
    assert cm[a, b] > 0 and cm[b, a] > 0
    assert cm[a, b] + cm[b, a] >= 0.2 * (cm[a].sum() + cm[b].sum())  # a heavy pair of cells
    general, special = truth["subclass_pair"]["general"], truth["subclass_pair"]["special"]
    assert cm[general, special] > cm[special, general]
    mislabeled = np.array(truth["mislabeled"]["indices"])
    assert 0.02 <= len(mislabeled) / len(labels) <= 0.03
    # the model, trained on clean labels, mostly sees through the flipped ones
    assert (predicted[mislabeled] == np.array(truth["mislabeled"]["true_class"])).mean() >= 0.6
