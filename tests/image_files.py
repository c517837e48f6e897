"""Datasets as users have them on disk, written by the tests: image folders and CIFAR pickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image


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



def write_cifar100(root: Path, n: int = 40) -> Path:
    """A CIFAR-100 layout (pickled test batch and meta) of ``n`` random images in ten classes, two superclasses."""
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
