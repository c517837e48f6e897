"""A SIGKILLed extraction leaves nothing that blocks the rerun (issue 14, item 5).

With the default ``--workers``, data-loader workers used to outlive a killed
run and hold the HDF5 lock on ``NAME.h5.partial``, so the same command
failed with "unable to lock file, errno = 11".  These tests run the real
command with the default workers, kill it, and rerun it at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blocks_tui.cache.parts import finished_parts, parts_folder
from blocks_tui.extract.locks import is_alive
from test_extract import TESTS, assert_same_cache, run
from image_files import write_image_folder

ENV = dict(os.environ, PYTHONPATH=str(TESTS))


def _command(folder: Path, out: Path, *extra: str) -> list[str]:
    """``blocks-tui extract`` with the default --workers (min(8, cores)): the case that used to fail."""
    return [sys.executable, "-m", "blocks_tui", "extract", "--model", "factory_models:slow", "--data",
            f"imagefolder:{folder}", "--crop", "16", "--batch-size", "2", "-o", str(out), *extra]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow  # two fresh interpreters that import torch, one killed: about 10-20 s on two cores
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finding the workers needs Linux /proc")
def test_killed_run_with_default_workers_resumes_at_once(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=4)
    killed = tmp_path / "killed.h5"
    child = subprocess.Popen(_command(folder, killed), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(finished_parts(parts_folder(killed))) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(child.pid)
        assert child.poll() is None, "the run finished before it could be killed"
        assert workers, "the run has no data-loader workers: the default --workers was not used"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stderr.close()
    deadline = time.monotonic() + 5  # the workers die with their parent, not on torch's 5 s watchdog
    while any(is_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(is_alive(w) for w in workers), "data-loader workers outlived the killed run"
    assert not killed.exists() and len(finished_parts(parts_folder(killed))) < 9
    started = time.monotonic()
    rerun = subprocess.run(_command(folder, killed), env=ENV, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    print(f"resume after SIGKILL: {time.monotonic() - started:.1f} s")
    straight = tmp_path / "straight.h5"
    assert run(_command(folder, straight)[3:])[0] == 0  # in-process, default workers too
    assert killed.exists() and not parts_folder(killed).exists()
    assert_same_cache(killed, straight)


def _holder(code: str) -> subprocess.Popen[str]:
    """A process that runs ``code``, says ready, and sleeps (holding whatever it opened)."""
    child = subprocess.Popen([sys.executable, "-c", code + "\nprint('ready', flush=True)\nimport time; time.sleep(60)"],
                             env=ENV, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


def test_a_held_cache_lock_names_the_file_and_its_holder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=1)
    out = tmp_path / "held.h5"
    holder = _holder(f"import h5py; f = h5py.File({str(out) + '.partial'!r}, 'w')")
    try:
        code, err = run(_command(folder, out, "--workers", "0")[3:], capsys)
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and err.count("\n") == 1, err
    assert f"{out}.partial is locked by process {holder.pid} (" in err and "errno" not in err


def test_a_second_run_of_the_same_shard_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=1)
    out = tmp_path / "twice.h5"
    parts_folder(out).mkdir()
    holder = _holder(f"from pathlib import Path; from blocks_tui.extract.locks import RunLock\n"
                     f"lock = RunLock(Path({str(parts_folder(out))!r}), 0).__enter__()")
    try:
        code, err = run(_command(folder, out, "--workers", "0")[3:], capsys)
        assert code == 1 and err.count("\n") == 1, err
        assert "run.lock is held by another extraction of the same shard: process" in err and str(holder.pid) in err
        code, err = run(_command(folder, out, "--workers", "0", "--shard", "1/2")[3:], capsys)
        assert code == 0, err  # another shard is free to run alongside
        code, err = run(_command(folder, out, "--workers", "0", "--overwrite")[3:], capsys)
        assert code == 1 and "held by an extraction still running" in err, err  # --overwrite never pulls parts from under it
        assert finished_parts(parts_folder(out)) == {1, 3}  # 8 files in batches of 2: shard 1/2's parts, intact
    finally:
        holder.kill()
        holder.wait()
    code, err = run(_command(folder, out, "--workers", "0")[3:], capsys)
    assert code == 0 and out.exists(), err
