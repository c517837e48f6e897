"""Part files: atomic, resumable blocks of an extraction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.cache import CacheError
from blocks_tui.cache.parts import (
    LayerPart,
    Part,
    finished_parts,
    parts_folder,
    read_manifest,
    read_part,
    write_manifest,
    write_part,
)


def _part(number: int) -> Part:
    rng = np.random.default_rng(number)
    n = 4
    return Part(
        number=number,
        index=np.arange(number * n, number * n + n),
        label=np.array([0, 1, 1, 0]),
        source=[f"img{i}.png" for i in range(n)],
        ok=np.array([True, False, True, True]),
        reason=["", "not an image", "", ""],
        thumbnail=rng.integers(0, 255, (n, 48, 48, 3), dtype=np.uint8),
        results={"original": (np.tile(np.arange(5), (n, 1)), np.full((n, 5), 0.2), np.full(n, 0.5))},
        layers={"conv": LayerPart(
            collective=rng.random((n, 3)).astype(np.float16),
            class_rows=np.array([2, 7]),
            class_sum=rng.random((2, 3, 2, 2)),
            class_count=np.array([1, 2]),
        )},
    )


def test_part_round_trip_is_exact(tmp_path: Path) -> None:
    folder = parts_folder(tmp_path / "run.h5")
    assert folder.name == "run.h5.parts"
    write_manifest(folder, {"model": "m", "samples": 8})
    original = _part(1)
    write_part(folder, original)
    (folder / "part-000000002.h5.tmp123").write_bytes(b"half-written by a killed process")
    assert finished_parts(folder) == {1}
    back = read_part(folder, 1)
    np.testing.assert_array_equal(back.index, original.index)
    np.testing.assert_array_equal(back.ok, original.ok)
    assert back.reason == original.reason and back.source == original.source
    np.testing.assert_array_equal(back.label, original.label)
    np.testing.assert_array_equal(back.thumbnail, original.thumbnail)
    np.testing.assert_array_equal(back.layers["conv"].class_sum, original.layers["conv"].class_sum)
    assert back.layers["conv"].maps is None
    np.testing.assert_array_equal(back.results["original"][0], original.results["original"][0])


def test_manifest_refuses_a_different_run(tmp_path: Path) -> None:
    folder = tmp_path / "x.parts"
    write_manifest(folder, {"model": "a", "samples": 8})
    write_manifest(folder, {"model": "a", "samples": 8})  # the same run resumes
    assert read_manifest(folder) == {"model": "a", "samples": 8}
    with pytest.raises(CacheError, match="holds parts of another run \\(it differs in model\\); rerun with --overwrite"):
        write_manifest(folder, {"model": "b", "samples": 8})


def test_damaged_part_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "y.parts"
    folder.mkdir()
    (folder / "part-000000000.h5").write_bytes(b"garbage")
    with pytest.raises(CacheError, match="part-000000000.h5: damaged part"):
        read_part(folder, 0)
