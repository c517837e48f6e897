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


def write_image_folder(root: Path, classes: list[str], per_class: int = 3, seed: int = 0) -> Path:
    """Class folders of real PNG/JPEG files, plus one of every awkward kind."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"img{i}.png")
    first = root / classes[0]
    Image.fromarray(np.full((20, 20), 90, np.uint8), "L").save(first / "gray.png")
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(first / "cmyk.jpg")
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:10, ..., 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(first / "alpha.png")
    (first / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (first / "notes.txt").write_text("not an image")
    return root


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


def _write_cifar100(root: Path, n: int = 40) -> Path:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    fine = np.arange(n) % 10
    coarse = fine // 5  # classes 0-4 -> superclass 0, 5-9 -> 1
    batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "fine_labels": fine.tolist(),
             "coarse_labels": coarse.tolist()}
    meta = {"fine_label_names": [f"fine{i}" for i in range(10)], "coarse_label_names": ["low", "high"]}
    (folder / "test").write_bytes(pickle.dumps(batch))
    (folder / "meta").write_bytes(pickle.dumps(meta))
    return root


def test_cifar100_pickles_give_two_level_hierarchy(tmp_path: Path) -> None:
    data = open_data(f"cifar100:{_write_cifar100(tmp_path / 'c100')}")
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
