"""The cache format: a round trip, lazy reads, and every reader error, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from blocks_tui.cache import CacheError, CacheWriter, FORMAT_VERSION, open_cache, partial_path
from conftest import TINY_CLASSES, TINY_NODE_NAMES, write_tiny_cache


def test_round_trip_preserves_every_section(tmp_path: Path) -> None:
    path = write_tiny_cache(tmp_path / "c.h5", ground_truth={"planted": [1, 2]})
    with h5py.File(path, "r") as raw:  # what another tool sees with plain h5py
        labels = raw["samples/label"][()]
        thumbs = raw["samples/thumbnail"][()]
        topk = raw["results/original/topk_index"][()]
        assert raw.attrs["format"] == "blocks-tui-cache"
        assert raw.attrs["format_version"] == FORMAT_VERSION
        assert bool(raw.attrs["complete"]) is True
        assert raw["samples/thumbnail"].compression == "gzip"
        assert raw["layers/stage1/class_mean"].compression is None
    with open_cache(path) as cache:
        assert cache.class_names == TINY_CLASSES
        assert cache.class_ids == [f"id{i}" for i in range(5)]
        assert cache.hierarchy.names == TINY_NODE_NAMES
        assert cache.hierarchy.source == "file"
        assert cache.config == {"model": "tiny", "dataset": "unit-test", "seed": 0}
        np.testing.assert_array_equal(cache.labels, labels)
        np.testing.assert_array_equal(cache.thumbnails(slice(None)), thumbs)
        np.testing.assert_array_equal(cache.thumbnails([7, 2, 7]), thumbs[[7, 2, 7]])
        assert cache.sources[3] == "img/003.png"
        assert cache.result_names == ["original", "grayscale"]  # in the order written
        original = cache.result("original")
        np.testing.assert_array_equal(original.topk_index, topk)
        assert original.k == 5 and original.attrs == {"transform": "original"}
        np.testing.assert_allclose(original.topk_prob.sum(1), 1.0, rtol=1e-5)
        layer = cache.layer("stage1")
        assert (layer.channels, layer.d, layer.output_shape) == (8, 2, (1, 8, 16, 16))
        assert layer.class_mean().shape == (5, 8, 2, 2)
        assert layer.collective([3, 1]).dtype == np.float16
        assert cache.ground_truth() == {"planted": [1, 2]}
        assert {d.path for d in cache.describe()} >= {"samples/thumbnail", "layers/stage1/collective"}


def test_unknown_result_and_layer_names_list_the_known_ones(tiny_cache: Path) -> None:
    with open_cache(tiny_cache) as cache:
        with pytest.raises(CacheError, match="no result set 'rot90'; it has original, grayscale"):
            cache.result("rot90")
        with pytest.raises(CacheError, match="no layer 'fc'; it has stage1"):
            cache.layer("fc")


def _expect(path: Path, message: str) -> None:
    with pytest.raises(CacheError) as info:
        open_cache(path)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_missing_path(tmp_path: Path) -> None:
    _expect(tmp_path / "nope.h5", f"{tmp_path / 'nope.h5'}: no such file")


def test_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("just some text\n")
    _expect(path, f"{path}: not an HDF5 file (15 bytes); blocks-tui caches are HDF5")


def test_truncated(tiny_cache: Path) -> None:
    data = tiny_cache.read_bytes()
    for cut in (200, len(data) // 2, len(data) - 64):
        tiny_cache.write_bytes(data[:cut])
        _expect(tiny_cache, f"{tiny_cache}: truncated HDF5 file ({cut} bytes); re-create it")


@pytest.mark.parametrize("name", ["samples/source", "hierarchy/parent", "results/grayscale/true_prob"])
def test_missing_dataset_is_named(tiny_cache: Path, name: str) -> None:
    with h5py.File(tiny_cache, "a") as f:
        del f[name]
    _expect(tiny_cache, f"{tiny_cache}: missing dataset '{name}'")


def test_mismatched_lengths(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "a") as f:
        del f["results/original/true_prob"]
        f["results/original/true_prob"] = np.zeros(19, np.float32)
    _expect(tiny_cache, f"{tiny_cache}: 'results/original/true_prob' has 19 rows but the cache has 20 samples")


def test_layer_with_wrong_class_count(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "a") as f:
        del f["layers/stage1/class_mean"]
        f["layers/stage1/class_mean"] = np.zeros((4, 8, 2, 2), np.float32)
    _expect(tiny_cache, f"{tiny_cache}: 'layers/stage1/class_mean' has 4 rows but the cache has 5 classes")


def test_newer_format_version(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "a") as f:
        f.attrs["format_version"] = FORMAT_VERSION + 1
    _expect(
        tiny_cache,
        f"{tiny_cache}: cache format version {FORMAT_VERSION + 1} is newer than this blocks-tui reads "
        f"({FORMAT_VERSION}); upgrade blocks-tui",
    )


def test_other_hdf5_file_is_not_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    _expect(path, f"{path}: not a blocks-tui cache (format attribute is None)")


def test_incomplete_cache_says_how_far_and_how_to_resume(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "a") as f:
        f.attrs["complete"] = False
        f.attrs["progress_done"] = 1200
        f.attrs["progress_total"] = 3300
        f.attrs["resume_hint"] = "blocks-tui demo --rebuild"
    _expect(
        tiny_cache,
        f"{tiny_cache}: incomplete cache: it got 1200 of 3300 samples; resume with `blocks-tui demo --rebuild`",
    )


def test_interrupted_run_is_pointed_at_from_the_final_name(tmp_path: Path) -> None:
    final = tmp_path / "run.h5"
    with pytest.raises(RuntimeError):
        with CacheWriter(final, config={}, resume_hint="blocks-tui demo --rebuild") as w:
            w.write_classes(["a"])
            w.set_progress(10, 40)
            raise RuntimeError("killed")
    assert not final.exists() and partial_path(final).exists()
    _expect(
        final,
        f"{final}: no such cache, but an interrupted run left run.h5.partial; "
        "it got 10 of 40 samples; resume with `blocks-tui demo --rebuild`",
    )


def test_invalid_hierarchy_is_rejected(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "a") as f:
        f["hierarchy/class_index"][3] = 0  # class 0 now on two leaves, class 1 on none
    _expect(tiny_cache, f"{tiny_cache}: invalid hierarchy: class 0 appears 2 times among the hierarchy leaves, expected once")


def test_open_reads_metadata_not_responses(tmp_path: Path) -> None:
    """Opening must not touch the big arrays: it stays fast as they grow."""
    path = write_tiny_cache(tmp_path / "c.h5")
    with open_cache(path) as cache:
        layer = cache.layer("stage1")
        assert "topk_index" not in cache.result("original").__dict__  # not read until used
        assert cache.result("original").topk_index.shape == (20, 5)
        assert "topk_index" in cache.result("original").__dict__
        assert layer.has_maps is False
        with pytest.raises(CacheError, match="no per-sample maps"):
            layer.maps()


def test_writer_refuses_inconsistent_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="k >= 5"):
        with CacheWriter(tmp_path / "c.h5", config={}) as w:
            w.write_classes(["a", "b"])
            w.write_hierarchy(["r", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), source="file")
            w.write_samples(np.array([0, 1]), ["x", "y"], np.zeros((2, 48, 48, 3), np.uint8))
            w.write_result_set("original", np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2))
    assert not (tmp_path / "c.h5").exists()


def test_writer_rejects_a_tree_out_of_preorder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not in depth-first pre-order at node 4"):
        with CacheWriter(tmp_path / "c.h5", config={}) as w:
            w.write_classes(["a", "b", "c"])
            # node 4 ("b") goes back under g1 after g2 has started: g1's classes would not be contiguous
            w.write_hierarchy(
                ["r", "g1", "a", "g2", "b", "c"], np.array([-1, 0, 1, 0, 1, 3]), np.array([-1, -1, 0, -1, 1, 2]),
                source="file",
            )


def test_config_is_json(tiny_cache: Path) -> None:
    with h5py.File(tiny_cache, "r") as f:
        assert json.loads(f.attrs["config"])["model"] == "tiny"


def test_streamed_rows_equal_whole_arrays_and_skipped_inputs_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    labels = np.array([0, 1, 1, 0, 1])
    thumbs = rng.integers(0, 255, (5, 48, 40, 3), dtype=np.uint8)
    collective = rng.random((5, 4)).astype(np.float16)
    topk = np.tile(np.array([[0, 1, 0, 1, 0]]), (5, 1))
    with CacheWriter(tmp_path / "s.h5", config={}) as w:
        w.write_classes(["a", "b"])
        w.write_hierarchy(["r", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), source="file")
        w.begin_samples(5, (48, 40, 3))
        w.begin_result_set("original", 5, {"epoch": 3})
        w.begin_layer("conv", 4, 1, (1, 4, 8, 8), with_maps=True)
        for start in (0, 3):  # two blocks of rows, as an extraction merges its parts
            rows = slice(start, min(start + 3, 5))
            w.append_samples(labels[rows], [f"f{i}" for i in range(5)][rows], thumbs[rows])
            w.write_result_rows("original", start, topk[rows], np.full(topk[rows].shape, 0.2), np.full(len(labels[rows]), 0.2))
            w.write_layer_rows("conv", start, collective[rows], collective[rows].reshape(-1, 4, 1, 1))
        w.write_class_mean("conv", np.ones((2, 4, 1, 1)))
        w.write_skipped(["bad.jpg", "notes.txt"], ["unreadable", "not an image"])
    with open_cache(tmp_path / "s.h5") as cache:
        np.testing.assert_array_equal(cache.thumbnails(slice(None)), thumbs)
        np.testing.assert_array_equal(cache.result("original").topk_index, topk)
        np.testing.assert_array_equal(cache.layer("conv").collective(), collective)
        np.testing.assert_array_equal(cache.layer("conv").maps()[:, :, 0, 0], collective)
        assert cache.result("original").attrs == {"epoch": 3}
        assert cache.skipped == [("bad.jpg", "unreadable"), ("notes.txt", "not an image")]


def test_append_result_set_is_atomic_and_refuses_duplicates(tiny_cache: Path) -> None:
    from blocks_tui.cache.writer import append_result_set

    n = 20
    top = np.tile(np.arange(5), (n, 1))
    append_result_set(tiny_cache, "epoch-3", top, np.full((n, 5), 0.2), np.full(n, 0.2), {"checkpoint": "e3.pt"})
    with open_cache(tiny_cache) as cache:
        assert cache.result_names == ["original", "grayscale", "epoch-3"]
        assert cache.result("epoch-3").attrs == {"checkpoint": "e3.pt"}
    before = tiny_cache.read_bytes()
    with pytest.raises(ValueError, match="exists already"):
        append_result_set(tiny_cache, "epoch-3", top, np.full((n, 5), 0.2), np.full(n, 0.2))
    with pytest.raises(ValueError, match=r"must be \(20, k >= 5\)"):
        append_result_set(tiny_cache, "short", top[:3], np.full((3, 5), 0.2), np.full(3, 0.2))
    assert tiny_cache.read_bytes() == before and not partial_path(tiny_cache).exists()
