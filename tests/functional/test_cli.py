"""The command line: output without a TTY, exit codes, one-line errors, no torch on the viewer path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blocks_tui.analysis import Tree
from blocks_tui.cache import open_cache
from blocks_tui.cli import main
from blocks_tui.synthetic.scale import generate, write_synthetic_cache
from conftest import write_tiny_cache


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own exits (usage errors, --help)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_prints_accuracy_groups_and_pairs(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["summary", str(tiny_cache)], capsys)
    assert code == 0, err
    assert "accuracy per result set" in out and "grayscale" in out
    assert "group metrics on 'original'" in out and "vehicles" in out
    assert "top confusions" in out


def test_summary_json_matches_the_analysis(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["summary", str(tiny_cache), "--json", "--result", "grayscale", "--top", "3"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["result"] == "grayscale" and data["samples"] == 20 and data["classes"] == 5
    assert [a["name"] for a in data["accuracy"]] == ["original", "grayscale"]
    assert [n["name"] for n in data["nodes"]][:3] == ["all", "animals", "cat"]
    assert len(data["pairs"]) <= 3
    root = data["nodes"][0]
    assert root["precision"] == root["recall"] == 1.0  # every prediction is some class


def test_info_lists_sections_and_config(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["info", str(tiny_cache)], capsys)
    assert code == 0
    for text in ("samples/thumbnail", "gzip", "stage1 (8 ch, 2×2)", '"model": "tiny"', "original, grayscale"):
        assert text in out


def test_bare_names_resolve_in_the_cache_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_cache(tmp_path / "envdir" / "tiny.h5")
    write_tiny_cache(tmp_path / "flagdir" / "tiny.h5")
    monkeypatch.setenv("BLOCKS_CACHE_DIR", str(tmp_path / "envdir"))
    code, out, _ = run_cli(["summary", "tiny", "--json"], capsys)
    assert code == 0 and json.loads(out)["cache"] == str(tmp_path / "envdir" / "tiny.h5")
    code, out, _ = run_cli(["summary", "tiny", "--json", "--cache-dir", str(tmp_path / "flagdir")], capsys)
    assert code == 0 and json.loads(out)["cache"] == str(tmp_path / "flagdir" / "tiny.h5")
    monkeypatch.delenv("BLOCKS_CACHE_DIR")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["info"], capsys)  # default: ./cache/demo.h5
    assert code == 1 and err.startswith(f"blocks-tui: error: {Path('cache') / 'demo.h5'}: no such file; ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "{dir}/missing.h5"], "{dir}/missing.h5: no such file; {dir} holds garbage.h5"),
        (["info", "{dir}/garbage.h5"], "{dir}/garbage.h5: not an HDF5 file (4 bytes); blocks-tui caches are HDF5"),
    ],
)
def test_failures_are_one_line_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "garbage.h5").write_text("junk")
    code, out, err = run_cli([a.format(dir=tmp_path) for a in args], capsys)
    assert code == 1 and out == ""
    assert err == f"blocks-tui: error: {message.format(dir=tmp_path)}\n"


@pytest.mark.parametrize(
    "args",
    [["summary", "--depth", "x"], ["frobnicate"], [], ["summary", "--top", "-1", "{cache}"],
     ["summary", "--result", "rot90", "{cache}"]],
)
def test_usage_errors_exit_2_with_one_line(
    tiny_cache: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _, err = run_cli([a.format(cache=tiny_cache) for a in args], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("demo", "info", "summary"):
        code, out, _ = run_cli([command, "--help"], capsys)
        assert code == 0 and "--cache-dir" in out


def test_viewer_path_never_imports_torch(tiny_cache: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, io, contextlib
        import blocks_tui, blocks_tui.cache, blocks_tui.analysis, blocks_tui.tui, blocks_tui.cli
        from blocks_tui.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["info", {str(tiny_cache)!r}]) == 0
            assert main(["summary", {str(tiny_cache)!r}, "--json"]) == 0
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_console_script_runs_without_a_tty(tiny_cache: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "blocks_tui", "summary", str(tiny_cache), "--depth", "1"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "animals" in done.stdout and "\x1b[" not in done.stdout  # no escape codes into a pipe


def test_bench_open_reports_a_ratio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["bench", "open", "--samples", "300", "--classes", "20",
                              "--path", str(tmp_path / "b.h5")], capsys)
    assert code == 0, err
    assert "300 samples, 20 classes" in out and "baseline, h5py read all" in out and "x faster" in out
    assert "through the cache vs. h5py fancy indexing" in out and "thumbnails" in out and "collective" in out
    code, _, err = run_cli(["bench", "open", "--classes", "1"], capsys)
    assert code == 2 and "--classes must be at least 2" in err


def test_make_synthetic_never_replaces_a_cache_silently(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tiny_cache.read_bytes()
    code, _, err = run_cli(["make-synthetic", str(tiny_cache), "--classes", "10", "--samples", "50",
                            "--channels", "8"], capsys)
    assert code == 2 and "exists; pass --overwrite" in err
    assert tiny_cache.read_bytes() == before
    code, _, err = run_cli(["make-synthetic", str(tiny_cache), "--classes", "10", "--samples", "50",
                            "--channels", "8", "--overwrite"], capsys)
    assert code == 0, err


def test_file_system_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import blocks_tui.cli as cli

    def read_only(_args: object) -> int:
        raise OSError(30, "Read-only file system", str(tmp_path / "x.h5"))

    monkeypatch.setattr(cli, "cmd_info", read_only)
    code, _, err = run_cli(["info", "x"], capsys)
    assert code == 1 and err == f"blocks-tui: error: {tmp_path / 'x.h5'}: Read-only file system\n"


def test_summary_rejects_negative_depth(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["summary", str(tiny_cache), "--depth", "-1"], capsys)
    assert code == 2 and "--depth must be 0 or more" in err


def test_out_of_range_predictions_are_a_damaged_cache(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import h5py

    with h5py.File(tiny_cache, "a") as f:
        f["results/original/topk_index"][0, 0] = -5
    code, _, err = run_cli(["summary", str(tiny_cache)], capsys)
    assert code == 1
    assert err == (f"blocks-tui: error: {tiny_cache}: damaged cache: 'results/original/topk_index' "
                   "holds classes outside [0, 5)\n")


def test_summary_table_shows_the_top_levels_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 17: on a 10k-class tree the summary printed all 16k nodes."""
    data = generate(n_classes=300, n_samples=3000, channels=(4,), seed=2)
    path = write_synthetic_cache(tmp_path / "deep.h5", data)
    code, out, err = run_cli(["summary", str(path)], capsys)
    assert code == 0, err
    with open_cache(path) as cache:
        depth = Tree.from_hierarchy(cache.hierarchy).depth
    hidden = int((depth > 2).sum())
    assert hidden > 0 and f"{hidden:,} deeper nodes not shown: --depth N shows them" in out
    code, out, _ = run_cli(["summary", str(path), "--json"], capsys)
    assert code == 0 and len(json.loads(out)["nodes"]) == len(depth)  # scripts get every node
    code, out, _ = run_cli(["summary", str(path), "--depth", "9"], capsys)
    assert code == 0 and "deeper nodes not shown" not in out
