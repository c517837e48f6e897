"""``blocks-tui view`` and ``blocks-tui bench ui`` from the command line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from blocks_tui.bench.ui import UiReport, bench_ui, format_report
from test_cli import run_cli


def test_view_of_a_missing_cache_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["view", str(tmp_path / "nope.h5")], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_view_memory_takes_megabytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["view", str(tmp_path / "nope.h5"), "--memory", "3"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--memory takes megabytes, at least 16" in err
    code, _, err = run_cli(["view", str(tmp_path / "nope.h5"), "--memory", "lots"], capsys)
    assert code == 2 and "--memory" in err and "Traceback" not in err


def test_view_resolves_names_like_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["view", "absent", "--cache-dir", str(tmp_path)], capsys)
    assert code == 1 and str(tmp_path / "absent.h5") in err


def test_a_missing_cache_says_what_to_do_next(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16: in an empty folder `view` only said `cache/demo.h5: no such file`; a typo got no hint."""
    folder = tmp_path / "cache"
    code, _, err = run_cli(["view", "--cache-dir", str(folder)], capsys)
    assert code == 1 and err.count("\n") == 1
    assert f"{folder / 'demo.h5'}: no such file; `blocks-tui demo` builds the demo cache there" in err
    folder.mkdir()
    (folder / "demo.h5").write_bytes(b"")
    (folder / "imagenet-val.h5").write_bytes(b"")
    code, _, err = run_cli(["summary", "dmeo", "--cache-dir", str(folder)], capsys)
    assert code == 1 and "dmeo.h5: no such file; did you mean demo.h5?" in err
    code, _, err = run_cli(["info", "zzz", "--cache-dir", str(folder)], capsys)
    assert code == 1 and "holds demo.h5, imagenet-val.h5" in err
    code, _, err = run_cli(["report", str(tmp_path / "elsewhere" / "x.h5")], capsys)
    assert code == 1 and "holds no caches: `blocks-tui demo` builds one" in err


def test_view_with_stderr_redirected_says_so(tiny_cache: Path, tmp_path: Path) -> None:
    """Issue 16: `view ... 2>err.log` said "needs a terminal" although stdin and stdout were terminals."""
    main, terminal = pty.openpty()
    try:
        with open(tmp_path / "err.log", "w") as log:
            done = subprocess.run([sys.executable, "-m", "blocks_tui", "view", str(tiny_cache)], stdin=terminal,
                                  stdout=terminal, stderr=log, timeout=120)
    finally:
        os.close(terminal)
        os.close(main)
    err = (tmp_path / "err.log").read_text()
    assert done.returncode == 1 and err.count("\n") == 1, err
    assert "draws on stderr, which is redirected" in err


def test_view_checks_the_result_set_then_needs_a_terminal(tiny_cache: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["view", str(tiny_cache), "--result", "nope"], capsys)
    assert code == 2 and "no result set 'nope'" in err and "original, grayscale" in err
    code, _, err = run_cli(["view", str(tiny_cache)], capsys)  # pytest's stdin is no terminal
    assert code == 1 and "reads keys from stdin, which is not a terminal" in err and err.count("\n") == 1


def test_bench_ui_rejects_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["bench", "ui", "--classes", "1"], capsys)
    assert code == 2 and "--classes" in err


def test_bench_ui_measures_frames_keys_and_start_up(tmp_path: Path) -> None:
    """A small run of the real benchmark: every figure present and plausible."""
    report = bench_ui(tmp_path / "ui.h5", classes=60, samples=600, presses=2, repeats=1, picture_presses=2)
    assert isinstance(report, UiReport) and report.classes == 60
    assert 0 < report.frame_data_ms < 1000 and 0 < report.strips_warm_ms <= report.strips_cold_ms * 5
    assert [k.name for k in report.keys] == ["cursor move (j)", "zoom in (enter)", "zoom out (backspace)"]
    assert all(k.wall_ms > 0 and k.empty_wall_ms > 0 and k.floor_wall_ms > 0 and k.matched_wall_ms > 0
               for k in report.keys)
    assert report.widgets > 10  # the viewer's screen, counted for the widget-matched control
    assert 0 < report.first_frame_s[0] < 30
    assert [p.mode for p in report.pictures] == ["sixel", "tgp", "halfcell"]
    sixel, tgp, halfcell = report.pictures
    assert sixel.tiles >= 1 and all(n >= 1 for n in sixel.pictures)  # every page change sent Sixel images
    assert all(n >= 1 for n in tgp.pictures) and not any(halfcell.pictures)
    assert all(0 < ms < 10_000 for p in report.pictures for ms in p.latency_ms)
    assert 0 < sixel.bytes_per_picture < 100_000
    text = format_report(report)
    for needle in ("cold frame, total", "strips, warm", "key-to-idle", "zoom out (backspace)", "first frame",
                   f"same, {report.widgets} widgets", "new page of thumbnails", "bytes/picture"):
        assert needle in text


def test_view_screenshot_writes_an_svg_without_a_terminal(tmp_path: Path) -> None:
    from conftest import write_tiny_cache

    cache = write_tiny_cache(tmp_path / "tiny.h5")
    out = tmp_path / "shots" / "tiny.svg"
    done = subprocess.run(
        [sys.executable, "-m", "blocks_tui", "view", str(cache), "--screenshot", str(out), "--size", "100x30",
         "--keys", "enter"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    assert svg.startswith("<svg") and "animals" in svg and "vehicles" in svg
    bad = subprocess.run([sys.executable, "-m", "blocks_tui", "view", str(cache), "--screenshot", str(out),
                          "--size", "huge"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert bad.returncode == 2 and "--size takes WIDTHxHEIGHT" in bad.stderr


def test_widget_matched_control_holds_as_many_widgets_as_asked() -> None:
    """The bench's floor for an app of the viewer's size really has that many widgets in its screen."""
    import asyncio

    from blocks_tui.bench.ui import _OneRepaint, _screen_widgets

    async def count(widgets: int) -> int:
        app = _OneRepaint(widgets)
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            return _screen_widgets(app)

    assert asyncio.run(count(0)) == 2 and asyncio.run(count(31)) == 31
