"""Plain h5py reads of a cache, past the reader: the baselines ``blocks-tui bench open`` measures against.

Here, in ``cache/``, because this is the only package that touches h5py; the
benchmark itself (:mod:`blocks_tui.bench.cache_open`) times these against
:func:`~blocks_tui.cache.open_cache`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from . import schema as s

RowRead = Callable[[np.ndarray], np.ndarray]
"""Reads the given sorted rows of one dataset."""


def read_every_dataset(path: Path) -> int:
    """Read every dataset in the file into memory, as a naive viewer would; the bytes read."""
    arrays: list[np.ndarray] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda _n, obj: arrays.append(obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return sum(np.asarray(a).nbytes for a in arrays)  # scalars come back as bytes


@contextmanager
def fancy_row_reads(path: Path) -> Iterator[list[RowRead]]:
    """h5py's own fancy indexing (``dataset[sorted_rows]``) on the thumbnails, then on each layer's
    collective responses in stored order (the order ``Cache.layer_names`` lists them), with the
    reader's chunk cache size."""
    with h5py.File(path, "r", rdcc_nbytes=s.READ_CHUNK_CACHE_BYTES) as f:
        datasets = [f[s.SAMPLE_THUMBNAIL], *(f[s.LAYERS][key][s.COLLECTIVE] for key in f[s.LAYERS])]
        yield [lambda rows, d=dataset: d[rows] for dataset in datasets]
