"""Damaged caches, one kind of damage at a time: each is refused on open with one line naming what is
wrong, or read with what can be read, and never hangs, blocks or escapes as another exception (issue 14.9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import pytest

from blocks_tui.cache import CacheError, CacheWriter, open_cache
from blocks_tui.cache.heaps import SIGNATURE
from blocks_tui.tui.model import ViewerModel
from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT, write_tiny_cache

from time_limits import fail_after


def _refused(path: Path, *parts: str) -> str:
    """Open ``path``, expect CacheError, check it is one line holding every part; return it."""
    with pytest.raises(CacheError) as info:
        open_cache(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000, message
    for part in parts:
        assert part in message, message
    return message


def _edit(path: Path, change: Callable[[h5py.File], Any]) -> Path:
    with h5py.File(path, "r+") as f:
        change(f)
    return path


def _replace(name: str, data: Any, **options: Any) -> Callable[[h5py.File], None]:
    def change(f: h5py.File) -> None:
        del f[name]
        f.create_dataset(name, data=data, **options)

    return change


# -- not a file --------------------------------------------------------------------------------------------
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "cache.h5"
    os.mkfifo(fifo)
    fail_after(5)
    try:
        assert _refused(fifo) == f"{fifo}: is a FIFO, not a cache file"
    finally:
        signal.alarm(0)


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "cache.h5"
    link.symlink_to("/dev/zero")
    assert _refused(link) == f"{link}: is a device, not a cache file"


# -- structure: groups, datasets, ranks, dtypes ------------------------------------------------------------
@pytest.mark.parametrize("name", ["classes/names", "samples/label", "results/original/topk_index",
                                  "layers/stage1/collective", "samples/thumbnail"])
def test_a_group_where_a_dataset_belongs_is_named(tiny_cache: Path, name: str) -> None:
    _edit(tiny_cache, lambda f: (f.__delitem__(name), f.create_group(name)))
    assert _refused(tiny_cache) == f"{tiny_cache}: damaged cache: '{name}' is a group where a dataset belongs"


@pytest.mark.parametrize("name", ["classes", "samples", "results/grayscale", "layers/stage1", "results"])
def test_a_dataset_where_a_group_belongs_is_named(tiny_cache: Path, name: str) -> None:
    _edit(tiny_cache, lambda f: (f.__delitem__(name), f.create_dataset(name, data=np.arange(3))))
    assert _refused(tiny_cache) == f"{tiny_cache}: damaged cache: '{name}' is a dataset where a group belongs"


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("samples/label", np.zeros((20, 2), np.int32), "'samples/label' has shape (20, 2), expected 1 dimension(s)"),
    ("classes/names", np.array([[b"a"]] * 5, dtype=object), "'classes/names' has shape (5, 1), expected 1"),
    ("results/original/topk_index", np.zeros(20, np.int32), "has shape (20,), expected 2 dimension(s)"),
    ("layers/stage1/class_mean", np.zeros((5, 8), np.float32), "has shape (5, 8), expected 4 dimension(s)"),
    ("samples/label", np.zeros(20, np.complex64), "'samples/label' holds complex64, expected integers"),
    ("samples/label", np.zeros(20, np.float32), "'samples/label' holds float32, expected integers"),
    ("hierarchy/parent", np.full(8, -1.0), "'hierarchy/parent' holds float64, expected integers"),
    ("classes/names", np.arange(5), "'classes/names' holds int64, expected text"),
    ("results/original/topk_prob", np.zeros((20, 5), bool), "holds bool, expected floating-point numbers"),
    ("results/original/topk_index", np.zeros((20, 0), np.int32), "differ in shape"),
])
def test_wrong_ranks_and_dtypes_are_named(tiny_cache: Path, name: str, data: np.ndarray, expected: str) -> None:
    options = {"dtype": h5py.string_dtype()} if data.dtype == object else {}
    _refused(_edit(tiny_cache, _replace(name, data, **options)), expected)


def test_k_zero_is_refused(tiny_cache: Path) -> None:
    def change(f: h5py.File) -> None:
        for key in ("topk_index", "topk_prob"):
            _replace(f"results/grayscale/{key}", np.zeros((20, 0), np.float32 if "prob" in key else np.int32))(f)

    _refused(_edit(tiny_cache, change), "'results/grayscale/topk_index' has k = 0 predictions per sample")


@pytest.mark.parametrize(("pixels", "expected"), [
    (np.zeros((20, 48, 48, 3), np.float32), "'samples/thumbnail' holds float32, expected uint8 pixels"),
    (np.zeros((20, 48, 48), np.uint8), "'samples/thumbnail' has shape (20, 48, 48), expected 4 dimension(s)"),
    (np.zeros((20, 48, 48, 4), np.uint8), "has shape (20, 48, 48, 4), expected (samples, height, width, 3)"),
    (np.zeros((20, 0, 0, 3), np.uint8), "has shape (20, 0, 0, 3), expected (samples, height, width, 3)"),
    (np.zeros((20, 48, 48, 3), np.int16), "holds int16, expected uint8 pixels"),
])
def test_thumbnails_must_be_uint8_rgb(tiny_cache: Path, pixels: np.ndarray, expected: str) -> None:
    _refused(_edit(tiny_cache, _replace("samples/thumbnail", pixels)), expected)


def test_layer_shapes_and_d_must_agree(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "r+") as f:
        f["layers/stage1"].attrs["d"] = 3
    _refused(tiny_cache, "'layers/stage1' attribute d is 3 but 'class_mean' has 2x2 cells")
    with h5py.File(tiny_cache, "r+") as f:
        f["layers/stage1"].attrs["d"] = 2
        f.create_dataset("layers/stage1/maps", data=np.zeros((20, 8, 3, 3), np.float16))
    _refused(tiny_cache, "'layers/stage1/maps' has shape (20, 8, 3, 3), expected (samples, 8, 2, 2)")


# -- sizes -------------------------------------------------------------------------------------------------
def test_sizes_declared_beyond_the_file_are_refused_before_anything_is_read(tiny_cache: Path) -> None:
    def change(f: h5py.File) -> None:
        del f["samples/label"]
        f.create_dataset("samples/label", shape=(20_000_000,), dtype=np.int32, chunks=(1 << 18,))

    _edit(tiny_cache, change)
    assert tiny_cache.stat().st_size < 1 << 20
    started = time.perf_counter()
    _refused(tiny_cache, "'samples/label' declares (20000000,) (80,000,000 bytes) but the file holds 0 bytes")
    assert time.perf_counter() - started < 1.0


def test_a_gzip_dataset_may_not_claim_more_than_deflate_can_hold(tiny_cache: Path) -> None:
    def change(f: h5py.File) -> None:
        del f["samples/thumbnail"]
        ds = f.create_dataset("samples/thumbnail", shape=(20, 4800, 4800, 3), dtype=np.uint8,
                              chunks=(1, 48, 48, 3), compression="gzip")
        ds[0, :48, :48] = 1  # one chunk stored: a few bytes for 1.4 GB declared

    _refused(_edit(tiny_cache, change), "'samples/thumbnail' declares (20, 4800, 4800, 3)")


# -- what HDF5 itself would get wrong ----------------------------------------------------------------------
_OPEN = "import sys; from blocks_tui.cache import open_cache, CacheError\n" \
        "try:\n    open_cache(sys.argv[1]).close(); print('opened')\nexcept CacheError as e:\n    print(e)\n"


def test_a_zeroed_heap_object_is_refused_where_hdf5_would_loop_forever(tiny_cache: Path) -> None:
    data = bytearray(tiny_cache.read_bytes())
    at = data.find(SIGNATURE)
    assert at > 0
    data[at + 16 : at + 80] = bytes(64)  # the first object's header and more: index 0, size 0
    tiny_cache.write_bytes(bytes(data))
    # In a child process: if the check ever goes, HDF5 spins in C, and only a kill ends it.
    done = subprocess.run([sys.executable, "-c", _OPEN, str(tiny_cache)], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parent.parent.parent)
    assert done.stdout.strip() == (f"{tiny_cache}: damaged cache: global heap collection at byte {at:,}: "
                                   f"a free-space object of size 0 (HDF5 would loop forever on it) at byte {at + 16:,}")


def test_every_valid_cache_passes_the_heap_walk(tmp_path: Path) -> None:
    many = [f"dir/{'x' * (i % 37)}/{i:05d}.png" for i in range(3000)]  # many collections, many sizes of string
    labels = np.arange(3000) % 5
    with CacheWriter(tmp_path / "c.h5", config={"model": "m" * 5000}) as w:
        w.write_classes(TINY_CLASSES, ids=[f"n{i}" * (i + 1) for i in range(5)])
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        w.write_samples(labels, many, np.zeros((3000, 48, 48, 3), np.uint8))
        w.write_skipped(["a"], ["b" * 9000])
        topk = np.tile(np.arange(5), (3000, 1))
        w.write_result_set("original", topk, np.full((3000, 5), 0.2, np.float32), np.full(3000, 0.2, np.float32))
    with open_cache(tmp_path / "c.h5") as cache:
        assert cache.sources == many and cache.skipped == [("a", "b" * 9000)]


# -- text --------------------------------------------------------------------------------------------------
def test_invalid_utf8_is_replaced_not_raised(tiny_cache: Path) -> None:
    bad = b"caf\xe9 \xff"

    def change(f: h5py.File) -> None:
        names = [n for n in f["classes/names"][()]]
        names[1] = bad
        _replace("classes/names", np.array(names, dtype=object), dtype=h5py.string_dtype("utf-8"))(f)
        sources = [n for n in f["samples/source"][()]]
        sources[3] = bad
        _replace("samples/source", np.array(sources, dtype=object), dtype=h5py.string_dtype("utf-8"))(f)
        f["layers/stage1"].attrs.create("layer", bad, dtype=h5py.string_dtype("utf-8"))
        f["results/original"].attrs.create("transform", bad, dtype=h5py.string_dtype("utf-8"))

    with open_cache(_edit(tiny_cache, change)) as cache:
        assert cache.class_names[1] == "caf\ufffd \ufffd"
        assert cache.sources[3] == "caf\ufffd \ufffd" and cache.sources[4] == "img/004.png"
        assert cache.layer_names == ["caf\ufffd \ufffd"] and cache.layer("caf\ufffd \ufffd").channels == 8
        assert cache.result("original").attrs["transform"] == "caf\ufffd \ufffd"
        "".join(cache.class_names + cache.sources).encode("utf-8")  # nothing left that cannot be written out


def test_huge_attributes_are_cut_and_a_huge_config_refused_unparsed(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "r+") as f:
        f.attrs["producer"] = "p" * 10_000_000
        f["layers/stage1"].attrs["layer"] = "L" * 10_000_000
        f["results/original"].attrs["transform"] = "t" * 10_000_000
    started = time.perf_counter()
    with open_cache(tiny_cache) as cache:
        assert cache.producer == "p" * 1024
        assert cache.layer_names == ["L" * 1024]
        assert cache.result("original").attrs["transform"] == "t" * 1024
    assert time.perf_counter() - started < 2.0
    with h5py.File(tiny_cache, "r+") as f:
        f.attrs["config"] = '{"model": "' + "y" * 10_000_000 + '"}'
    _refused(tiny_cache, "damaged cache: config attribute is 10,000,013 characters (at most 65,536)")
    with h5py.File(tiny_cache, "r+") as f:
        f.attrs["config"] = "[" * 30_000 + "]" * 30_000
    _refused(tiny_cache, "config attribute is not valid JSON")


@pytest.mark.parametrize(("name", "value"), [("format_version", "one"), ("format_version", np.nan),
                                             ("complete", "yes"), ("format", np.arange(3))])
def test_root_attributes_of_the_wrong_type_are_one_line(tiny_cache: Path, name: str, value: Any) -> None:
    with h5py.File(tiny_cache, "r+") as f:
        f.attrs[name] = value
    _refused(tiny_cache, str(tiny_cache))


def test_odd_informational_attributes_do_not_stop_a_cache(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "r+") as f:
        f["layers/stage1"].attrs["output_shape"] = "not a shape"
        f["layers/stage1"].attrs["layer"] = np.arange(4)
        f["hierarchy"].attrs["source"] = np.arange(2)
    with open_cache(tiny_cache) as cache:
        layer = cache.layer(cache.layer_names[0])
        assert (layer.name, layer.output_shape, layer.d) == ("stage1", (), 2)
        assert cache.hierarchy.source == "file"


# -- damage found by a later read --------------------------------------------------------------------------
def _cache_with_chunks(path: Path, n: int = 80) -> Path:
    """Five classes, ``n`` samples: the thumbnails span three gzip chunks."""
    rng = np.random.default_rng(3)
    labels = np.arange(n) % 5
    with CacheWriter(path, config={}) as w:
        w.write_classes(TINY_CLASSES)
        w.write_hierarchy(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX, source="file")
        w.write_samples(labels, [f"s{i}" for i in range(n)], rng.integers(0, 256, (n, 48, 48, 3), dtype=np.uint8))
        for name in ("original", "grayscale", "rot90"):
            topk = np.array([np.roll(np.arange(5), -c) for c in labels])
            w.write_result_set(name, topk, np.full((n, 5), 0.2, np.float32), np.full(n, 0.2, np.float32))
    return path


def test_a_corrupt_thumbnail_chunk_is_one_line_and_spares_the_other_chunks(tmp_path: Path) -> None:
    path = _cache_with_chunks(tmp_path / "c.h5")
    with h5py.File(path, "r") as f:
        chunk = f["samples/thumbnail"].id.get_chunk_info(0)
        assert f["samples/thumbnail"].id.get_num_chunks() >= 2
    data = bytearray(path.read_bytes())
    data[chunk.byte_offset + 100 : chunk.byte_offset + 140] = bytes(range(40))
    path.write_bytes(bytes(data))
    with open_cache(path) as cache:
        with pytest.raises(CacheError) as info:
            cache.thumbnails(np.array([0, 1]))
        message = str(info.value)
        assert message.startswith(f"{path}: damaged cache: cannot read 'samples/thumbnail' (") and "\n" not in message
        with pytest.raises(CacheError, match="samples/thumbnail"):
            cache.thumbnail(2)
        last = cache.thumbnails(np.array([79, 78]))
        assert last.dtype == np.uint8 and last.shape == (2, 48, 48, 3)


def test_a_result_set_found_damaged_late_is_left_out_of_the_sample_details(tmp_path: Path) -> None:
    path = _cache_with_chunks(tmp_path / "c.h5")
    with h5py.File(path, "r+") as f:
        f["results/rot90/topk_index"][7, 0] = 99
    with open_cache(path) as cache:
        model = ViewerModel.open(cache)  # reads the active and the compared result sets only
        details = model.selections.details(7)
        assert [name for name, _ in details.outcomes] == ["original", "grayscale"]
        assert model.selections.problem == f"{path}: damaged cache: 'results/rot90/topk_index' holds classes outside [0, 5)"
        with pytest.raises(CacheError, match="rot90"):
            cache.result("rot90").topk_index


def test_h5py_errors_in_a_lazy_read_name_the_dataset(tmp_path: Path) -> None:
    path = write_tiny_cache(tmp_path / "c.h5")
    with open_cache(path) as cache:
        layer = cache.layer("stage1")
        with pytest.raises(CacheError, match=r"cannot read 'layers/stage1/collective' \("):
            layer.collective(np.array([0, 10**9]))  # h5py: out of range
        with pytest.raises(CacheError, match=r"cannot read 'samples/thumbnail' \("):
            cache.thumbnails(np.array([10**6]))
