"""Linear probes (``blocks-tui probe``): held-out predictions per layer, stored as result sets.

The cache here is built so the answer is known: layer ``early`` carries the
top-level group strongly and the leaf class only weakly, layer ``late`` the
leaf class strongly, layer ``noise`` nothing at all.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from blocks_tui.analysis import Tree
from blocks_tui.analysis.probes import (
    layer_separation,
    probe_columns,
    probe_result_name,
    probe_split,
)
from blocks_tui.cache import CacheError, CacheWriter, open_cache
from blocks_tui.extract.probe import ProbeSettings, probe_cache
from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT, write_tiny_cache
from test_cli import run_cli

# all -> {g0 -> c0..c3, g1 -> c4..c7, g2 -> c8..c11}, nodes in depth-first pre-order
GROUPS, PER_GROUP, PER_CLASS = 3, 4, 60
N_CLASSES = GROUPS * PER_GROUP
NAMES = ["all"] + [n for g in range(GROUPS) for n in [f"g{g}"] + [f"c{g * PER_GROUP + i}" for i in range(PER_GROUP)]]
PARENT = np.array([-1] + [p for g in range(GROUPS) for p in [0] + [1 + g * (PER_GROUP + 1)] * PER_GROUP])
CLASS_INDEX = np.array([-1] + [c for g in range(GROUPS) for c in [-1] + list(range(g * PER_GROUP, (g + 1) * PER_GROUP))])
SCIPY = ProbeSettings("scipy", "cpu")


def write_layered_cache(path: Path, maps: bool = False, seed: int = 0) -> Path:
    """A 12-class cache whose ``early`` layer separates the 3 top-level groups but barely the leaves."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(N_CLASSES), PER_CLASS))
    n = len(labels)
    group = labels // PER_GROUP
    early = rng.normal(size=(n, 3 + N_CLASSES))
    early[np.arange(n), group] += 4.0  # channels 0..2: the top-level group, far above the noise
    early[np.arange(n), 3 + labels] += 0.4  # channels 3..14: the leaf, barely
    late = rng.normal(size=(n, N_CLASSES))
    late[np.arange(n), labels] += 4.0
    noise = rng.normal(size=(n, 64))  # enough features to memorise the training fold
    with CacheWriter(path, config={"model": "probe-test"}) as w:
        w.write_classes([f"c{c}" for c in range(N_CLASSES)])
        w.write_hierarchy(NAMES, PARENT, CLASS_INDEX, source="file")
        w.write_samples(labels, [f"s/{i}" for i in range(n)], np.zeros((n, 48, 48, 3), np.uint8))
        order = np.tile(np.arange(5), (n, 1))
        w.write_result_set("original", order, np.full((n, 5), 0.2), np.full(n, 0.2))
        for name, x in (("early", early), ("late", late), ("noise", noise)):
            channels = x.shape[1]
            cells = np.repeat(x[:, :, None, None] / 4, 2, axis=2).repeat(2, axis=3) if maps else None
            w.write_layer(name, np.zeros((N_CLASSES, channels, 2, 2)), x.astype(np.float16), (1, channels, 8, 8),
                          maps=cells)
    return path


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layered cache, probed once with the scipy engine (the CPU default)."""
    path = write_layered_cache(tmp_path_factory.mktemp("probe") / "layered.h5")
    probe_cache(path, ["early", "late", "noise"], SCIPY)
    return path


def _tree_of(cache) -> Tree:  # noqa: ANN001 - a Cache
    h = cache.hierarchy
    return Tree.from_hierarchy(h)


def test_split_is_deterministic_stratified_halves() -> None:
    labels = np.random.default_rng(3).integers(0, 7, 501)
    split = probe_split(labels)
    assert split.dtype == np.int8 and set(np.unique(split)) == {0, 1}
    np.testing.assert_array_equal(split, probe_split(labels.copy()))
    for c in range(7):
        folds = split[labels == c]
        assert abs(int((folds == 0).sum()) - int((folds == 1).sum())) <= 1  # half of every class
    assert abs(int(split.sum()) - len(split) / 2) <= 4  # odd classes alternate their extra sample


def test_early_layer_separates_top_level_groups_but_not_leaves(probed: Path) -> None:
    with open_cache(probed) as cache:
        tree = _tree_of(cache)
        columns = probe_columns(cache.layer_names, cache.result_names)
        table = layer_separation(tree, cache.labels, {c: cache.result(c).predicted for c in columns})
        early_top1 = float((cache.result("probe:early").predicted == cache.labels).mean())
        late_top1 = float((cache.result("probe:late").predicted == cache.labels).mean())
    assert columns == ["probe:early", "probe:late", "probe:noise", "original"]
    top_level = [tree.node_index(f"g{g}") for g in range(GROUPS)]
    early = table.values[:, 0]
    assert (early[top_level] >= 0.9).all(), early[top_level]
    assert early_top1 < 0.7 and early_top1 < late_top1 - 0.2, (early_top1, late_top1)
    leaves = np.flatnonzero(tree.class_index >= 0)
    assert np.nanmean(early[leaves]) < early[top_level].min()
    assert (table.first_reaching(0.9)[top_level] == 0).all()  # separable from the first column on


def test_every_stored_prediction_is_held_out(probed: Path) -> None:
    """64 pure-noise features memorise 360 training samples; only held-out predictions stay at chance."""
    with open_cache(probed) as cache:
        top1 = float((cache.result("probe:noise").predicted == cache.labels).mean())
    assert top1 < 0.2, top1  # chance is 1/12; predicting the training fold would score far higher


def test_probe_result_sets_and_split_round_trip(probed: Path, tmp_path: Path) -> None:
    with open_cache(probed) as cache:
        n = cache.n_samples
        assert [r for r in cache.result_names if r.startswith("probe:")] == ["probe:early", "probe:late", "probe:noise"]
        result = cache.result("probe:late")
        assert result.topk_index.shape == (n, 5) and result.topk_prob.shape == (n, 5) and result.true_prob.shape == (n,)
        assert (np.diff(result.topk_prob, axis=1) <= 1e-6).all()  # best first
        hit = result.topk_index == cache.labels[:, None]
        np.testing.assert_allclose(result.true_prob[hit.any(1)], result.topk_prob[hit], rtol=1e-5)
        assert result.attrs["probe_layer"] == "late" and result.attrs["features"] == "collective"
        split = cache.probe_split
        np.testing.assert_array_equal(split, probe_split(cache.labels))
        assert "stratified" in cache.probe_split_method
        np.testing.assert_array_equal(cache.result("original").topk_index, np.tile(np.arange(5), (n, 1)))
        before = cache.result("probe:early").topk_index.copy()
    # A re-run replaces the probe sets rather than adding or failing, and keeps the others.
    copy = shutil.copy(probed, tmp_path / "again.h5")
    probe_cache(Path(copy), ["early"], SCIPY)
    with open_cache(copy) as cache:
        assert cache.result_names.count("probe:early") == 1 and "probe:noise" in cache.result_names
        np.testing.assert_array_equal(cache.result("probe:early").topk_index, before)  # deterministic


def test_old_caches_open_without_a_split_and_a_bad_split_is_rejected(tmp_path: Path) -> None:
    path = write_tiny_cache(tmp_path / "old.h5")
    with open_cache(path) as cache:
        assert cache.probe_split is None and cache.probe_split_method == ""
    with h5py.File(path, "a") as f:
        f.create_dataset("probes/split", data=np.full(len(f["samples/label"]), 2, dtype=np.int8))
    with pytest.raises(CacheError, match="folds other than 0 and 1"):
        open_cache(path)


def test_maps_are_used_when_stored(tmp_path: Path) -> None:
    path = write_layered_cache(tmp_path / "maps.h5", maps=True)
    summaries, _ = probe_cache(path, ["early"], SCIPY)
    assert summaries[0].features == "maps" and summaries[0].n_features == 15 * 2 * 2
    with open_cache(path) as cache:
        table = layer_separation(_tree_of(cache), cache.labels, {"p": cache.result("probe:early").predicted})
        assert table.values[[cache.hierarchy.names.index(f"g{g}") for g in range(GROUPS)], 0].min() >= 0.9


def test_torch_engine_finds_the_same_separation(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = write_layered_cache(tmp_path / "torch.h5")
    probe_cache(path, ["early"], ProbeSettings("torch", "cpu"))
    with open_cache(path) as cache:
        table = layer_separation(_tree_of(cache), cache.labels, {"p": cache.result("probe:early").predicted})
        assert cache.result("probe:early").attrs["engine"] == "torch"
        assert table.values[[cache.hierarchy.names.index(f"g{g}") for g in range(GROUPS)], 0].min() >= 0.9


def test_layer_separation_by_hand() -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    # classes: cat dog | car bus van
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 4])
    probe = np.array([1, 1, 0, 0, 3, 4, 2, 2])  # right group, wrong class, every time
    output = np.array([0, 0, 1, 2, 2, 2, 3, 4])  # one dog taken for a car
    table = layer_separation(tree, labels, {"probe:a": probe, "original": output})
    at = {name: i for i, name in enumerate(TINY_NODE_NAMES)}
    assert table.columns == ("probe:a", "original")
    assert table.values[at["animals"]].tolist() == [1.0, 0.75]
    assert table.values[at["vehicles"]].tolist() == [1.0, 1.0]
    assert table.values[at["cat"], 0] == 0.0 and table.values[at["cat"], 1] == 1.0
    assert table.support[at["vehicles"]].tolist() == [4, 4]
    assert table.first_reaching(1.0).tolist() == [0, 0, 1, -1, 0, 1, 1, 1]
    f1 = layer_separation(tree, labels, {"original": output}, metric="f1")
    assert f1.values[at["car"], 0] == pytest.approx(2 * 2 / (2 + 3))  # TP 2, 2 true, 3 predicted
    # A mask keeps only the samples the predictor did not train on.
    masked = layer_separation(tree, labels, {"probe:a": probe}, heldout={"probe:a": labels != 1})
    assert masked.support[at["animals"], 0] == 2 and masked.values[at["animals"], 0] == 1.0


def test_probe_columns_follow_layer_order_then_the_output() -> None:
    results = ["original", "probe:b", "grayscale", "probe:a"]
    assert probe_columns(["a", "b", "c"], results) == ["probe:a", "probe:b", "original"]
    assert probe_columns(["a"], results, output="grayscale") == ["probe:a", "grayscale"]
    assert probe_result_name("layer4.2") == "probe:layer4.2"


def test_cli_probes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_layered_cache(tmp_path / "cli.h5")
    code, out, err = run_cli(["probe", str(path), "--layers", "late,early", "--engine", "scipy"], capsys)
    assert code == 0, err
    assert "probe:early" in out and "probe:late" in out and "held-out" in out
    with open_cache(path) as cache:
        assert {"probe:early", "probe:late"} <= set(cache.result_names) and "probe:noise" not in cache.result_names


def test_cli_unknown_layer_is_one_line_with_close_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_layered_cache(tmp_path / "typo.h5")
    code, _, err = run_cli(["probe", str(path), "--layers", "erly"], capsys)
    assert code == 2 and err.count("\n") == 1 and "did you mean early" in err
    code, _, err = run_cli(["probe", str(path), "--engine", "scipy", "--device", "cuda"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_cli_cache_without_layers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nolayers.h5"
    with CacheWriter(path, config={}) as w:
        w.write_classes(["a", "b"])
        w.write_hierarchy(["all", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), source="file")
        w.write_samples(np.array([0, 1] * 5), [str(i) for i in range(10)], np.zeros((10, 48, 48, 3), np.uint8))
        w.write_result_set("original", np.tile(np.arange(5) % 2, (10, 1)), np.full((10, 5), 0.2), np.full(10, 0.5))
    code, _, err = run_cli(["probe", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "no layer responses" in err


def test_bench_probe_compares_both_engines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "bench.h5"
    code, out, err = run_cli(["bench", "probe", "--path", str(path), "--classes", "10", "--samples", "200",
                              "--channels", "4,8", "--steps", "2", "--device", "cpu"], capsys)
    assert code == 0, err
    assert "layer1" in out and "layer2" in out and "ratio: torch (cpu) takes" in out
    with open_cache(path) as cache:  # the benchmark measures; it writes no probe result set
        assert not any(name.startswith("probe:") for name in cache.result_names)
