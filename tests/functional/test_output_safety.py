"""Outputs never overwrite what they must not (issue 14.4): the input cache, its triage file (the user's
marks), a FIFO or a device.  Each refusal is one line and exit code 2, before any work; what was there stays
byte-identical."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blocks_tui.cache import open_cache
from blocks_tui.cache.triage import CacheIdentity, OutlierKey, TriageStore, triage_path
from blocks_tui.cli import main


@pytest.fixture
def marked(tiny_cache: Path) -> Path:
    """The tiny cache with one saved decision, so its triage file exists."""
    with open_cache(tiny_cache) as cache:
        store = TriageStore.open(tiny_cache, CacheIdentity.of_cache(cache))
        assert store.mark(OutlierKey("cat", "car"), "redundant") and store.note(OutlierKey("cat", "car"), "keep")
    return tiny_cache


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and err.startswith("blocks-tui: error: "), err
    for needle in needles:
        assert needle in err
    return err


@pytest.mark.parametrize("command", [["report", "{cache}", "-o", "{out}"], ["report", "{cache}", "--output", "{out}"],
                                     ["view", "{cache}", "--screenshot", "{out}"]])
@pytest.mark.parametrize("target", ["cache", "triage", "cache via symlink", "cache via hard link", "cache via ../"])
def test_outputs_never_overwrite_the_cache_or_its_marks(marked: Path, capsys: pytest.CaptureFixture[str],
                                                        command: list[str], target: str) -> None:
    triage = triage_path(marked)
    before = marked.read_bytes(), triage.read_bytes()
    out = {"cache": marked, "triage": triage, "cache via symlink": marked.with_name("link.svg"),
           "cache via hard link": marked.with_name("hard.md"),
           "cache via ../": marked.parent / "sub" / ".." / marked.name}[target]
    if target == "cache via symlink":
        out.symlink_to(marked)
    elif target == "cache via hard link":
        out.hardlink_to(marked)
    (marked.parent / "sub").mkdir()
    what = "the cache's triage file" if target == "triage" else "the input cache"
    _refused([arg.format(cache=marked, out=out) for arg in command], capsys, what, "refusing to write over it")
    assert (marked.read_bytes(), triage.read_bytes()) == before


@pytest.mark.parametrize("option", ["-o", "--screenshot"])
def test_a_fifo_or_a_device_is_refused_not_replaced(tiny_cache: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str], option: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    command = "report" if option == "-o" else "view"
    _refused([command, str(tiny_cache), option, str(fifo)], capsys, "is a FIFO")  # and it did not block
    assert fifo.is_fifo()
    _refused([command, str(tiny_cache), option, os.devnull], capsys, "is a device")
    assert Path(os.devnull).is_char_device()


def test_extract_style_outputs_refuse_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "big.h5"
    os.mkfifo(fifo)
    _refused(["make-synthetic", str(fifo), "--classes", "2", "--samples", "4", "--overwrite"], capsys, "is a FIFO")
    assert fifo.is_fifo()


def test_report_dash_is_standard_output(tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(tiny_cache), "--format", "csv", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("section,rank,") and not (tmp_path / "-").exists() and "Wrote" not in err


def test_report_over_a_symlink_replaces_the_link_not_its_target(tiny_cache: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"not a report")
    link = tmp_path / "report.md"
    link.symlink_to(precious)
    assert main(["report", str(tiny_cache), "-o", str(link)]) == 0
    capsys.readouterr()
    assert precious.read_bytes() == b"not a report"
    assert not link.is_symlink() and link.read_text().startswith("# Triage report")


def test_a_symlink_planted_at_the_old_triage_temp_name_is_not_followed(marked: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"keep me")
    triage = triage_path(marked)
    triage.with_name(triage.name + ".tmp").symlink_to(precious)  # the fixed name the old code opened
    with open_cache(marked) as cache:
        store = TriageStore.open(marked, CacheIdentity.of_cache(cache))
        assert store.mark(OutlierKey("dog", "bus"), "expected")
    assert precious.read_bytes() == b"keep me"
    assert '"dog"' in triage.read_text()
