"""Row reads from the cache: any order, repeats, dense or sparse, against the same rows taken in memory."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from blocks_tui.cache.reader import _read_rows


@pytest.fixture(params=[("gzip", (4, 3)), (None, (4, 3)), (None, (32, 32))],
                ids=["gzip rows: by slices", "small rows: fancy indexing", "large rows: by slices"])
def dataset(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[h5py.Dataset, np.ndarray]:
    compression, row = request.param
    data = np.random.default_rng(0).integers(0, 255, (500, *row), dtype=np.uint8)
    f = h5py.File(tmp_path / "rows.h5", "w")
    ds = f.create_dataset("rows", data=data, chunks=(37, *row), compression=compression)
    yield ds, data
    f.close()


@pytest.mark.parametrize("rows", [
    [],  # nothing
    [7],  # one row
    [499, 0, 250],  # sparse, unsorted, both ends
    [3, 3, 2, 3],  # repeats
    list(range(100, 180)) + [90, 95],  # dense: read as one span
    list(range(0, 500, 5)),  # sparse runs of one
    [10, 11, 12, 40, 41, 300, 301, 302, 303],  # runs of consecutive rows
])
def test_rows_come_back_in_the_callers_order(dataset: tuple[h5py.Dataset, np.ndarray], rows: list[int]) -> None:
    ds, data = dataset
    got = _read_rows(ds, np.array(rows, dtype=np.int64))
    assert got.shape == (len(rows), *data.shape[1:]) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, data[rows])


def test_random_row_sets_match_memory(dataset: tuple[h5py.Dataset, np.ndarray]) -> None:
    ds, data = dataset
    rng = np.random.default_rng(1)
    for n in (1, 5, 50, 400, 1000):
        rows = rng.integers(0, 500, n)
        np.testing.assert_array_equal(_read_rows(ds, rows), data[rows])
    np.testing.assert_array_equal(_read_rows(ds, slice(20, 30)), data[20:30])


def test_cache_reads_rows_through_datasets_it_keeps_open(tmp_path: Path) -> None:
    """Thumbnails and layer rows come back in the caller's order from a real cache, and repeated reads
    go through the same open datasets (HDF5 keeps a chunk cache per open dataset, not per file)."""
    from blocks_tui.cache import open_cache
    from conftest import write_tiny_cache

    path = write_tiny_cache(tmp_path / "tiny.h5")
    with h5py.File(path, "r") as f:
        thumbs, collective = f["samples/thumbnail"][()], f["layers"]
        collective = collective[next(iter(collective))]["collective"][()]
    rows = np.array([19, 3, 3, 0, 12])
    with open_cache(path) as cache:
        np.testing.assert_array_equal(cache.thumbnails(rows), thumbs[rows])
        np.testing.assert_array_equal(cache.thumbnail(7), thumbs[7])
        layer = cache.layer("stage1")
        np.testing.assert_array_equal(layer.collective(rows), collective[rows])
        assert cache.layer("stage1") is layer  # opened once, then kept
