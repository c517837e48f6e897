"""Data set discovery and loading on real files the tests write."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from blocks_tui.analysis import Tree
from blocks_tui.errors import UsageError
from blocks_tui.extract.datasets import BadImage, open_data, stratified_subset, to_rgb

from image_files import write_cifar100, write_image_folder


def test_image_folder_discovers_and_loads_every_mode(tmp_path: Path) -> None:
    data = open_data(f"imagefolder:{write_image_folder(tmp_path / 'data', ['cats', 'dogs'])}")
    assert data.class_names == ["cats", "dogs"] and data.class_ids is None and data.hierarchy is None
    assert len(data) == 3 + 5 + 3  # bad files are found when loaded, not skipped silently here
    by_name = {Path(s).name: i for i, s in enumerate(data.sources) if "cats" in s}
    gray = np.asarray(data.load(by_name["gray.png"]))
    assert gray.shape == (20, 20, 3) and (gray == 90).all()
    cmyk = np.asarray(data.load(by_name["cmyk.jpg"]))
    assert cmyk.shape == (20, 20, 3) and cmyk[..., 0].mean() > 200 and cmyk[..., 1].mean() < 60  # red
    alpha = np.asarray(data.load(by_name["alpha.png"]))
    assert (alpha[:10] == [255, 0, 0]).all() and (alpha[10:] == 255).all()  # composited on white
    with pytest.raises(BadImage, match="unreadable|not an image"):
        data.load(by_name["corrupt.jpg"])
    with pytest.raises(BadImage, match="not an image"):
        data.load(by_name["notes.txt"])


def test_wordnet_named_folders_get_names_ids_and_hierarchy(tmp_path: Path) -> None:
    wnids = ["n01440764", "n01443537", "n04008634"]  # tench, goldfish, projectile
    data = open_data(f"imagefolder:{write_image_folder(tmp_path / 'wn', wnids, per_class=1)}")
    assert data.class_ids == wnids
    assert data.class_names == ["tench", "goldfish", "projectile"]
    assert data.hierarchy is not None and data.hierarchy.source == "wordnet"
    tree = Tree.from_arrays(data.hierarchy.names, data.hierarchy.parent, data.hierarchy.class_index)
    fish = tree.node_index("cyprinid")
    assert sorted(tree.classes_of(fish).tolist()) == [0, 1]


def test_imagenet_layout_reads_val(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "imnet" / "val", ["n01440764", "n01443537"], per_class=2)
    data = open_data(f"imagenet:{tmp_path / 'imnet'}")
    assert data.class_names == ["tench", "goldfish"] and data.kind == "imagenet"
    with pytest.raises(UsageError, match="expected torchvision's ImageNet layout"):
        open_data(f"imagenet:{tmp_path / 'imnet' / 'val'}")


def test_cifar100_pickles_give_two_level_hierarchy(tmp_path: Path) -> None:
    data = open_data(f"cifar100:{write_cifar100(tmp_path / 'c100')}")
    assert len(data) == 40 and data.class_names[3] == "fine3"
    h = data.hierarchy
    assert h is not None and h.source == "cifar100"
    tree = Tree.from_hierarchy(h)
    assert tree.classes_of(tree.node_index("high")).tolist() == [5, 6, 7, 8, 9]
    image = data.load(7)
    assert image.size == (32, 32) and image.mode == "RGB"
    assert data.sources[7] == "cifar100:test/000007"


def test_cifar10_pickles(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batch = {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b", "c"]}))
    data = open_data(f"cifar10:{tmp_path}")
    assert data.labels.tolist() == [0, 1, 2, 1] and data.class_names == ["a", "b", "c"]


def test_limit_is_stratified_and_deterministic(tmp_path: Path) -> None:
    data = open_data(f"imagefolder:{write_image_folder(tmp_path / 'd', ['a', 'b', 'c'], per_class=4)}", limit=4)
    assert len(data) == 4 and set(data.labels.tolist()) == {0, 1, 2}
    again = open_data(f"imagefolder:{tmp_path / 'd'}", limit=4)
    assert again.sources == data.sources
    assert stratified_subset(np.array([1, 1, 1, 0]), 2).tolist() == [0, 3]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mnist:/x", "unknown data set 'mnist:/x'"),
        ("imagefolder:{tmp}/absent", "{tmp}/absent: no such folder"),
        ("imagefolder:{tmp}/empty", "{tmp}/empty: no class folders"),
        ("imagefolder", "imagefolder needs a path"),
        ("cifar100:{tmp}/empty", "{tmp}/empty/test: missing"),
    ],
)
def test_fail_fast_with_one_line(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError) as info:
        open_data(spec.format(tmp=tmp_path))
    assert message.format(tmp=tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_to_rgb_scales_16_bit() -> None:
    image = Image.fromarray(np.full((4, 4), 65535, np.uint16))
    assert np.asarray(to_rgb(image)).min() == 255
