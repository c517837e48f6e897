"""The torch side of a data source: a Dataset that never raises on a bad image.

Workers decode images, make the model input and a thumbnail.  A file that
fails to decode yields a zero image flagged ``ok=False`` with the reason, so
one bad file costs one wasted slot in a batch instead of the whole run; the
merge leaves such samples out and lists them in the cache.

Workers are forked, and a fork shares every open file and ``flock`` of its
parent.  A SIGKILLed extraction used to leave its workers running, holding
the HDF5 lock of the cache it was writing, so the rerun failed.  So every
loader here starts its workers with :func:`die_with_parent`, and the runner
opens its output only after the workers exist.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

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


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int, _worker_id: int = 0) -> None:
    """A worker's first act: be killed when ``parent`` dies, whatever kills it (Linux; elsewhere a no-op).

    If the parent is gone already (it died while this worker started), exit now.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc symbol: keep torch's own watchdog
            pass
    if os.getppid() != parent:
        os._exit(0)


def sample_loader(dataset: SampleDataset, workers: int, pin_memory: bool = False, batch_size: int | None = None,
                  batch_sampler: Sequence[Sequence[int]] | None = None) -> DataLoader:
    """The DataLoader every extraction path uses: :func:`collate`, and workers that die with this process."""
    batching: dict[str, Any] = {"batch_sampler": batch_sampler} if batch_sampler is not None else {"batch_size": batch_size}
    return DataLoader(
        dataset, num_workers=workers, collate_fn=collate, pin_memory=pin_memory,
        worker_init_fn=functools.partial(die_with_parent, os.getpid()) if workers else None, **batching,
    )
