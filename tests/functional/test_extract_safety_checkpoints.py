"""Checkpoints and CIFAR files are pickles, and a pickle can run code: crafted ones must not (issue 14, items 1-2).

Every crafted file here carries a payload that creates a marker file.  Each
test first shows the payload is refused (no marker, one error line), then
that the same file really is armed: loading it the unsafe way creates the
marker, so "no marker" cannot pass by accident.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from blocks_tui.cache import open_cache
from blocks_tui.cli import main
from blocks_tui.extract.datasets import open_data
from test_extract import extract_args, run
from image_files import write_image_folder


class Payload:
    """Unpickling this runs ``exec``: it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images") / "data", ["a", "b", "c"], per_class=2)


def _craft(kind: str, path: Path, marker: Path) -> None:
    if kind == "plain pickle":
        path.write_bytes(pickle.dumps(Payload(marker)))
    elif kind == "torch.save":
        torch.save(Payload(marker), path)
    else:  # real weights, with a payload riding along
        state = torchvision.models.resnet18(weights=None, num_classes=3).state_dict()
        torch.save({"state_dict": state, "epoch": 3, "extra": Payload(marker)}, path)


@pytest.mark.parametrize("kind", ["plain pickle", "torch.save", "mixed"])
def test_crafted_checkpoints_are_refused_without_running(
    kind: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "payload-ran"
    ckpt = tmp_path / "crafted.pt"
    _craft(kind, ckpt, marker)
    out = tmp_path / "x.h5"
    code, err = run(extract_args(folder, out, "--checkpoint", str(ckpt)), capsys)
    assert not marker.exists(), "the checkpoint's code ran"
    assert code == 2 and err.count("\n") == 1 and "\x1b" not in err, err
    assert "--trust-checkpoint" in err and "can run code" in err and str(ckpt) in err
    assert not out.exists()
    # The file is armed: with the flag, the full unpickler runs the payload.
    code = main(["extract", "--list-layers", "--model", "resnet18", "--weights", "none", "--num-classes", "3",
                 "--checkpoint", str(ckpt), "--crop", "32", "--trust-checkpoint"])
    capsys.readouterr()
    assert marker.exists()
    assert code == (0 if kind == "mixed" else 2)  # the mixed file holds real weights and then loads


def test_a_state_dict_needs_no_trust(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(3)
    ckpt = tmp_path / "weights.pt"
    torch.save({"state_dict": torchvision.models.resnet18(weights=None, num_classes=3).state_dict(), "epoch": 1}, ckpt)
    code, err = run(extract_args(folder, tmp_path / "ok.h5", "--checkpoint", str(ckpt), "--layers", "layer4"), capsys)
    assert code == 0, err


def _write_cifar10(root: Path, protocol: int = pickle.DEFAULT_PROTOCOL, n: int = 6) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {"batch_label": "testing batch 1 of 1", "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             "labels": [i % 3 for i in range(n)], "filenames": [f"img{i}.png" for i in range(n)]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=protocol))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b", "c"], "num_vis": 3072},
                                                       protocol=protocol))
    return root


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_cifar_pickles_of_every_protocol_still_load(tmp_path: Path, protocol: int) -> None:
    data = open_data(f"cifar10:{_write_cifar10(tmp_path / 'c10', protocol)}")
    assert data.class_names == ["a", "b", "c"] and data.labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert np.asarray(data.load(1)).shape == (32, 32, 3)


@pytest.mark.parametrize("name", ["test_batch", "batches.meta"])
def test_a_crafted_cifar_file_is_refused_without_running(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _write_cifar10(tmp_path / "c10")
    marker = tmp_path / "payload-ran"
    crafted = root / "cifar-10-batches-py" / name
    crafted.write_bytes(pickle.dumps({"data": Payload(marker), "labels": [0], "label_names": ["a"]}))
    code = main(["extract", "--model", "resnet18", "--weights", "none", "--data", f"cifar10:{root}",
                 "--crop", "32", "--workers", "0", "-o", str(tmp_path / "c.h5")])
    err = capsys.readouterr().err
    assert not marker.exists(), "the data file's code ran"
    assert code == 2 and err.count("\n") == 1, err
    assert f"{crafted}: not a CIFAR pickle (it refers to builtins.exec" in err
    pickle.loads(crafted.read_bytes())  # the file is armed: a plain pickle.load runs it
    assert marker.exists()


def test_cifar_files_of_the_wrong_shape_fail_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _write_cifar10(tmp_path / "c10")
    batch = root / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(pickle.dumps({"data": np.zeros((2, 5), np.uint8), "labels": [0, 1]}))
    code = main(["extract", "--model", "resnet18", "--data", f"cifar10:{root}", "-o", str(tmp_path / "c.h5")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not CIFAR data" in err, err
    batch.write_bytes(pickle.dumps(["not", "a", "dict"]))
    code = main(["extract", "--model", "resnet18", "--data", f"cifar10:{root}", "-o", str(tmp_path / "c.h5")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "holds a list, not a dict" in err, err


def test_a_checkpoint_needs_no_weights_option(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16: a checkpoint says where its weights come from; published ImageNet weights with 1000 classes
    would only clash with its 3-class head (and were the default)."""
    torch.manual_seed(4)
    ckpt = tmp_path / "three.pt"
    model = torchvision.models.resnet18(weights=None, num_classes=3)
    torch.save(model.state_dict(), ckpt)
    args = ["extract", "--model", "resnet18", "--checkpoint", str(ckpt), "--num-classes", "3",
            "--data", f"imagefolder:{folder}", "--crop", "32", "--batch-size", "4", "--workers", "0",
            "--layers", "layer4", "-o", str(tmp_path / "ckpt.h5")]
    code, err = run(args, capsys)
    assert code == 0, err
    with open_cache(tmp_path / "ckpt.h5") as cache:
        assert cache.config["weights"] == "none" and len(cache.class_names) == 3
