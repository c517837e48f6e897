"""The torch side of a data source: a Dataset that never raises on a bad image.

Workers decode images, make the model input and a thumbnail.  A file that
fails to decode yields a zero image flagged ``ok=False`` with the reason, so
one bad file costs one wasted slot in a batch instead of the whole run; the
merge leaves such samples out and lists them in the cache.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .datasets import BadImage, DataSource

THUMBNAIL_SIDE = 64


def thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """A square (side, side, 3) uint8 thumbnail: shorter side resized, centre cropped."""
    w, h = image.size
    scale = side / min(w, h)
    resized = image.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.Resampling.BOX)
    left = (resized.width - side) // 2
    top = (resized.height - side) // 2
    return np.asarray(resized.crop((left, top, left + side, top + side)), dtype=np.uint8)


class SampleDataset(Dataset):
    """Samples at ``positions`` of the run order, as (input, label, position, ok, reason, thumbnail)."""

    def __init__(self, data: DataSource, order: np.ndarray, positions: np.ndarray,
                 transform: Callable[[Image.Image], torch.Tensor], crop: int) -> None:
        self.data = data
        self.order = order
        self.positions = positions
        self.transform = transform
        self.crop = crop

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        position = int(self.positions[i])
        index = int(self.order[position])
        label = int(self.data.labels[index])
        try:
            image = self.data.load(index)
            return self.transform(image), label, position, True, "", thumbnail(image)
        except BadImage as exc:
            empty = torch.zeros(3, self.crop, self.crop)
            return empty, label, position, False, str(exc), np.zeros((THUMBNAIL_SIDE,) * 2 + (3,), np.uint8)


def collate(batch: list[tuple[Any, ...]]) -> dict[str, Any]:
    images, labels, positions, ok, reasons, thumbs = zip(*batch)
    return {
        "images": torch.stack(images),
        "labels": torch.tensor(labels, dtype=torch.long),
        "positions": np.asarray(positions, dtype=np.int64),
        "ok": np.asarray(ok, dtype=bool),
        "reasons": list(reasons),
        "thumbnails": np.stack(thumbs),
    }
