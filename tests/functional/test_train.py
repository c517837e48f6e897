"""``blocks-tui train``: baseline vs hierarchy-aware CNN on tiny real data, end to end."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from blocks_tui.cache import open_cache
from blocks_tui.cli import main
from blocks_tui.nn.demo_cnn import LAYERS, DemoCNN
from blocks_tui.demo.pipeline import load_checkpoint
from blocks_tui.nn.training import TrainSettings, evaluate_images, plan_aux_heads, train_pair
from blocks_tui.extract.training_data import load_labelled_images
from blocks_tui.analysis.hierarchy import Tree
from blocks_tui.tui.responses import load_layer

COLOURS = {"red": (220, 30, 30), "orange": (240, 140, 20), "blue": (30, 40, 220), "teal": (20, 160, 170)}
HIERARCHY = {"name": "colours", "children": [
    {"name": "warm", "children": [{"name": "red"}, {"name": "orange"}]},
    {"name": "cool", "children": [{"name": "blue"}, {"name": "teal"}]},
]}


@pytest.fixture
def colour_folder(tmp_path: Path) -> tuple[Path, Path]:
    """Four classes of 10 noisy 20x24 PNGs each, in two groups, and their hierarchy file."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "images"
    for name, rgb in COLOURS.items():
        (folder / name).mkdir(parents=True)
        for i in range(10):
            pixels = np.clip(np.array(rgb) + rng.normal(0, 25, (20, 24, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i:02d}.png")
    hierarchy = tmp_path / "hierarchy.json"
    hierarchy.write_text(json.dumps(HIERARCHY))
    return folder, hierarchy


def test_train_imagefolder_end_to_end(colour_folder: tuple[Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder, hierarchy = colour_folder
    out = tmp_path / "out" / "compare.h5"
    code = main(["train", "--data", f"imagefolder:{folder}", "--hierarchy", str(hierarchy), "--epochs", "2",
                 "--image-size", "16", "--batch-size", "8", "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert [len(report["top1_error"][m]) for m in ("baseline", "hierarchy-aware")] == [2, 2]
    assert report["aux_heads"] == [{"stage": "stage3", "depth": 1, "groups": 2, "weight": 0.3}]
    with open_cache(out) as cache:
        assert cache.result_names == ["baseline", "hierarchy-aware", "baseline:epoch-1", "hierarchy-aware:epoch-1"]
        assert cache.result("hierarchy-aware").attrs["epoch"] == 2
        assert cache.n_samples == 8  # every fifth image of each class is held out
        assert cache.sources[0].endswith("blue/04.png")  # classes in folder order: blue, orange, red, teal
        assert {cache.hierarchy.names[i] for i in (1, 4)} == {"warm", "cool"}
        errors = 1 - (cache.result("baseline").predicted == cache.labels).mean()
        assert errors == pytest.approx(report["top1_error"]["baseline"][-1])
    # The saved models are plain demo CNNs: no auxiliary heads, loadable as such.
    for name in ("baseline", "hierarchy-aware"):
        state = torch.load(out.parent / "compare-models" / f"{name}.pt", weights_only=True)
        assert not any("aux" in key for key in state)
        assert set(state) == set(DemoCNN(4).state_dict())
        load_checkpoint(out.parent / "compare-models" / f"{name}.pt", 4)
    # Every stage of both final models is in the cache, as the saved model responds on the held-out images.
    data = load_labelled_images(f"imagefolder:{folder}", str(hierarchy), None, None, 16)
    with open_cache(out) as cache:
        assert cache.layer_names == [f"{m}:{s}" for m in ("baseline", "hierarchy-aware") for s in LAYERS]
        for name in ("baseline", "hierarchy-aware"):
            model = load_checkpoint(out.parent / "compare-models" / f"{name}.pt", 4)
            want = evaluate_images(model, data.eval_images, data.eval_labels, layers=LAYERS)
            for stage in LAYERS:
                layer = cache.layer(f"{name}:{stage}")
                assert layer.d == 3 and layer.collective().shape == (8, layer.channels)
                np.testing.assert_allclose(layer.collective(), want.collective[stage], rtol=1e-2, atol=1e-2)
                np.testing.assert_allclose(layer.class_mean(), want.class_mean[stage], rtol=1e-4, atol=1e-4)
        view = load_layer(cache, "hierarchy-aware:stage4", cache.n_classes)  # what the response map shows
        assert view.n_channels == cache.layer("hierarchy-aware:stage4").channels


def test_auxiliary_heads_exist_while_training_and_are_dropped_after(tmp_path: Path) -> None:
    data = load_labelled_images("demo", limit=70, eval_limit=35)
    settings = TrainSettings(epochs=1, batch_size=35, seed=3)
    baseline, aware = train_pair(data, settings, torch.device("cpu"), model_dir=tmp_path)
    trained = aware.model.state_dict()
    assert {k for k in trained if k.startswith("aux_heads.")} == {
        "aux_heads.stage2.weight", "aux_heads.stage2.bias", "aux_heads.stage3.weight", "aux_heads.stage3.bias"}
    assert trained["aux_heads.stage2.weight"].shape == (2, 32)  # artifacts / natural after stage 2
    assert trained["aux_heads.stage3.weight"].shape == (8, 64)  # the eight mid-level groups after stage 3
    saved = torch.load(tmp_path / "hierarchy-aware.pt", weights_only=True)
    assert not any(k.startswith("aux_heads") for k in saved)
    assert saved.keys() == {k.removeprefix("backbone.") for k in trained if k.startswith("backbone.")}
    assert saved.keys() == torch.load(tmp_path / "baseline.pt", weights_only=True).keys()


def test_zero_aux_weight_is_exactly_the_baseline() -> None:
    """Same seed, same batches, same optimiser: with weight 0 the two runs must coincide."""
    data = load_labelled_images("demo", limit=35, eval_limit=35)
    baseline, aware = train_pair(data, TrainSettings(epochs=2, batch_size=35), torch.device("cpu"), aux_weight=0.0)
    np.testing.assert_array_equal(baseline.final.topk_index, aware.final.topk_index)
    np.testing.assert_array_equal(baseline.final.topk_prob, aware.final.topk_prob)
    assert baseline.top1_error == aware.top1_error


def test_plan_puts_coarser_levels_at_earlier_stages() -> None:
    from blocks_tui.synthetic.generator import default_spec

    heads = plan_aux_heads(default_spec().tree, n_stages=4)
    assert [(h.stage, h.depth, h.n_groups) for h in heads] == [(2, 1, 2), (3, 2, 8)]
    flat = Tree.from_arrays(["all", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]))
    assert plan_aux_heads(flat, n_stages=4) == []


def _write_fake_cifar100(root: Path) -> Path:
    """The python-pickle CIFAR-100 layout with 100 classes, 2 train and 1 test image each."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(per_class: int) -> dict:
        fine = np.repeat(np.arange(100), per_class)
        return {"data": rng.integers(0, 256, (len(fine), 3072), dtype=np.uint8),
                "fine_labels": fine.tolist(), "coarse_labels": (fine // 5).tolist()}

    for name, content in (("train", batch(2)), ("test", batch(1)),
                          ("meta", {"fine_label_names": [f"f{i}" for i in range(100)],
                                    "coarse_label_names": [f"c{i}" for i in range(20)]})):
        with open(folder / name, "wb") as f:
            pickle.dump(content, f)
    return root


def test_train_on_cifar100_pickles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _write_fake_cifar100(tmp_path / "cifar")
    out = tmp_path / "c.h5"
    assert main(["train", "--data", f"cifar100:{root}", "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "depth-1 groups (20) after stage3" in printed and "hierarchy-aware" in printed
    with open_cache(out) as cache:
        assert cache.n_samples == 100 and cache.thumbnail_shape == (48, 48, 3)
        assert cache.hierarchy.source == "cifar100"
        assert cache.result_names == ["baseline", "hierarchy-aware"]


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "cifar10:/nowhere"], "train supports --data demo, cifar100:PATH or imagefolder:PATH"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--aux-weight", "-1"], "--aux-weight must be 0 or more"),
    (["--data", "cifar100:/no/such/folder"], "no such folder"),
    (["--data", "demo", "--hierarchy", "none"], "brings its own hierarchy"),
    (["--limit", "0"], "--limit must be at least 1"),
])
def test_usage_errors_are_one_line(args: list[str], message: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", *args, "--out", str(tmp_path / "x.h5")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.h5").exists()


def test_flat_hierarchy_and_existing_output_are_refused(colour_folder: tuple[Path, Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = colour_folder
    assert main(["train", "--data", f"imagefolder:{folder}", "--out", str(tmp_path / "x.h5")]) == 2
    assert "has no groups for auxiliary heads" in capsys.readouterr().err
    (tmp_path / "y.h5").write_bytes(b"keep me")
    assert main(["train", "--out", str(tmp_path / "y.h5")]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "y.h5").read_bytes() == b"keep me"
