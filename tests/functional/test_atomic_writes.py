"""A writer killed at any point never leaves a file with the final name; an atomic write never goes through a
planted symlink and never replaces a FIFO, a device or a folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blocks_tui import atomic
from blocks_tui.atomic import UnsafeOutput, atomic_write_bytes, check_output, commit_file
from blocks_tui.cache import CacheError, open_cache, partial_path

_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from blocks_tui.cache import CacheWriter
    n = 2000
    with CacheWriter(sys.argv[1], config={"model": "k"}, resume_hint="blocks-tui demo --rebuild") as w:
        w.write_classes(["a", "b"])
        w.write_hierarchy(["r", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), source="file")
        w.write_samples(np.arange(n) % 2, [str(i) for i in range(n)],
                        np.random.default_rng(0).integers(0, 255, (n, 48, 48, 3), dtype=np.uint8))
        w.set_progress(n // 2, n)
        if sys.argv[2] == "samples":
            print("ready", flush=True); time.sleep(60)
        top = np.tile(np.arange(5) % 2, (n, 1))
        w.write_result_set("original", top, np.full((n, 5), 0.2), np.full(n, 0.2))
        if sys.argv[2] == "results":
            print("ready", flush=True); time.sleep(60)
    """
)


@pytest.mark.parametrize("stage", ["samples", "results"])
def test_killed_writer_leaves_no_final_file(tmp_path: Path, stage: str) -> None:
    final = tmp_path / "killed.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(final), stage], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert not final.exists()
    assert partial_path(final).exists()
    with pytest.raises(CacheError, match="no such cache, but an interrupted run left killed.h5.partial"):
        open_cache(final)


def test_clean_exit_leaves_only_the_final_file(tmp_path: Path) -> None:
    final = tmp_path / "ok.h5"
    subprocess.run([sys.executable, "-c", _CHILD, str(final), "none"], check=True, timeout=60)
    assert final.exists() and not partial_path(final).exists()
    with open_cache(final) as cache:
        assert cache.n_samples == 2000


# -- atomic_write_bytes: unique temp files, never through links, never over special files ------------
def test_a_planted_symlink_at_the_old_fixed_temp_name_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    (tmp_path / "x.triage.json.tmp").symlink_to(target)  # where the old code wrote, following the link
    atomic_write_bytes(tmp_path / "x.triage.json", b"new")
    assert (tmp_path / "x.triage.json").read_bytes() == b"new"
    assert target.read_bytes() == b"keep me"


def test_a_symlink_planted_at_the_next_temp_name_is_never_opened(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    names = iter(["guessed", "fresh"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: next(names))
    (tmp_path / "out.txt.guessed.tmp").symlink_to(target)  # an attacker who guessed the name
    atomic_write_bytes(tmp_path / "out.txt", b"new")
    assert (tmp_path / "out.txt").read_bytes() == b"new"
    assert target.read_bytes() == b"keep me"
    assert os.readlink(tmp_path / "out.txt.guessed.tmp") == str(target)  # not ours to remove
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "out.txt.guessed.tmp", "precious"]


def test_temp_names_differ_between_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *a, **k):  # type: ignore[no-untyped-def]
        if str(path).endswith(".tmp"):
            used.append(str(path))
            assert flags & os.O_EXCL and flags & os.O_NOFOLLOW and flags & os.O_CREAT
        return real_open(path, flags, mode, *a, **k)

    monkeypatch.setattr(atomic.os, "open", spy)
    atomic_write_bytes(tmp_path / "a", b"1")
    atomic_write_bytes(tmp_path / "a", b"2")
    assert len(used) == 2 and used[0] != used[1]
    assert (tmp_path / "a").read_bytes() == b"2"


def test_a_fifo_or_device_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeOutput, match="is a FIFO"):
        atomic_write_bytes(fifo, b"x")
    assert fifo.is_fifo()
    with pytest.raises(UnsafeOutput, match="is a device"):
        check_output(Path(os.devnull))
    link = tmp_path / "to-pipe"
    link.symlink_to(fifo)
    with pytest.raises(UnsafeOutput, match="is a FIFO"):
        atomic_write_bytes(link, b"x")
    assert link.is_symlink() and fifo.is_fifo()
    with pytest.raises(UnsafeOutput, match="is a folder"):
        atomic_write_bytes(tmp_path, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "to-pipe"]  # no temp file left behind


def test_commit_file_never_renames_over_a_fifo(tmp_path: Path) -> None:
    fifo, tmp = tmp_path / "out.h5", tmp_path / "out.h5.partial"
    os.mkfifo(fifo)
    tmp.write_bytes(b"data")
    with pytest.raises(UnsafeOutput):
        commit_file(tmp, fifo)
    assert fifo.is_fifo() and tmp.read_bytes() == b"data"


def test_a_replaced_file_keeps_its_mode_and_a_failed_write_leaves_no_temp(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "marks.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o640

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(path, b"newer")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["marks.json"]


def test_check_output_knows_a_protected_file_by_any_name(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    cache.write_bytes(b"cache")
    (tmp_path / "hard.h5").hardlink_to(cache)
    (tmp_path / "soft.h5").symlink_to(cache)
    protected = [(cache, "the input cache")]
    for name in ("demo.h5", "hard.h5", "soft.h5", "./sub/../demo.h5"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(UnsafeOutput, match="is the input cache"):
            check_output(tmp_path / name, protected)
    check_output(tmp_path / "other.h5", protected)  # a new file beside it is fine
    missing = tmp_path / "demo.triage.json"
    with pytest.raises(UnsafeOutput, match="its triage file"):
        check_output(tmp_path / "sub" / ".." / "demo.triage.json", [(missing, "its triage file")])
