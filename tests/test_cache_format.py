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
        assert cache.result_names == ["grayscale", "original"]
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
        with pytest.raises(CacheError, match="no result set 'rot90'; it has grayscale, original"):
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
