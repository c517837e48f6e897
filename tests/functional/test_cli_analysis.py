"""``blocks-tui make-synthetic`` and ``blocks-tui bench analysis``, at small sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks_tui.cache import open_cache
from blocks_tui.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_make_synthetic_writes_a_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["make-synthetic", "small", "--cache-dir", str(tmp_path), "--classes", "20",
                              "--samples", "200", "--channels", "4,8,16,32"], capsys)
    assert code == 0, err
    assert f"Wrote {tmp_path / 'small.h5'}: 20 classes, 200 samples, layers of 4, 8, 16, 32 channels" in out
    with open_cache(tmp_path / "small.h5") as cache:
        assert cache.n_classes == 20 and len(cache.layer_names) == 4 and cache.has_ground_truth


@pytest.mark.parametrize(
    "args, message",
    [(["--channels", "4,x"], "--channels: expected comma-separated integers"),
     (["--channels", "1,2,3,4,5"], "--channels: expected 1 to 4"),
     (["--classes", "1"], "--classes must be at least 2"),
     (["--samples", "5", "--classes", "10"], "--samples at least --classes")],
)
def test_make_synthetic_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                     message: str) -> None:
    code, _, err = run_cli(["make-synthetic", str(tmp_path / "x.h5"), *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_bench_analysis_prints_a_table_with_the_scipy_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["bench", "analysis", "--classes", "40", "--samples", "800", "--channels", "16",
                              "--seriation-classes", "60", "--repeats", "1"], capsys)
    assert code == 0, err
    assert out.startswith("blocks-tui bench analysis on ")
    for task in ("confusion build, all six filters", "seriate spectral", "optimal leaf ordering, ours",
                 "optimal leaf ordering, scipy", "partition, 32 blocks", "relevance Eq. 2, one class",
                 "60 classes"):
        assert task in out
    assert "generating 40 classes x 800 samples" in err


def test_bench_analysis_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["bench", "analysis", "--seriation-classes", "big"], capsys)
    assert code == 2 and "--seriation-classes must be" in err
    code, _, err = run_cli(["bench", "analysis", "--repeats", "0"], capsys)
    assert code == 2 and "--repeats at least 1" in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["make-synthetic", "--help"], capsys)
    assert code == 0 and "--cache-dir" in out and "--channels" in out
    code, out, _ = run_cli(["bench", "analysis", "--help"], capsys)
    assert code == 0 and "--seriation-classes" in out and "scipy" in out
