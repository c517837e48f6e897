"""A full disk is one line, loses nothing, and the same command resumes once there is room (issue 14, item 7).

``extract`` used to segfault in its writer thread (exit 139) after 14 h5py
tracebacks, and ``demo`` failed inside ``torch.save`` leaving
``epoch-5.pt.partial``.  The real test mounts a 2 MiB tmpfs (root only); a
second test fills a fake disk at the Python write calls, so the same path is
checked on machines where mounting is not allowed.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch

from blocks_tui.cache import parts as parts_module
from blocks_tui.cache import writer as writer_module
from blocks_tui.cache.parts import finished_parts, parts_folder, read_part
from blocks_tui.nn.demo_cnn import DemoCNN
from blocks_tui.errors import BlocksError
from blocks_tui.cache import diskfull
from blocks_tui.nn.training import save_state_dict
from test_extract import TESTS, assert_same_cache, extract_args, run
from image_files import write_image_folder

NOT_ONE_LINE = ("Traceback", "Exception ignored", "HDF5", "Segmentation")


def _mount(where: Path, size: str, remount: bool = False) -> subprocess.CompletedProcess[str]:
    options = f"remount,size={size}" if remount else f"size={size}"
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, or a skip saying why (test_full_fake_disk checks the same path without one)."""
    where = tmp_path / "disk"
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a 2 MiB tmpfs needs root; test_full_fake_disk covers this path without it")
    mounted = _mount(where, "2m")
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); test_full_fake_disk covers this path")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _error_lines(stderr: str) -> list[str]:
    """stderr without the progress bar's lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("extract ")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images") / "data", ["a", "b", "c"], per_class=8)


def test_full_disk_during_extract(folder: Path, small_disk: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = small_disk / "out.h5"
    args = extract_args(folder, out, "--layers", "layer1,layer2", "--crop", "48")
    failed = subprocess.run([sys.executable, "-m", "blocks_tui", *args], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(TESTS)))
    lines = _error_lines(failed.stderr)
    assert failed.returncode == 1 and len(lines) == 1, failed.stderr  # not 139, not tracebacks
    assert lines[0].startswith(f"blocks-tui: error: disk full in {small_disk} (") and "run the same command" in lines[0]
    assert not any(word in failed.stderr for word in NOT_ONE_LINE)
    done = finished_parts(parts_folder(out))
    assert done and not out.exists() and not Path(f"{out}.partial").exists()
    assert not [p.name for p in parts_folder(out).iterdir() if ".tmp" in p.name]  # no half-written temp file
    for number in done:
        read_part(parts_folder(out), number)  # every kept part is whole
    assert _mount(small_disk, "64m", remount=True).returncode == 0  # space freed
    code, err = run(args, capsys)
    assert code == 0, err
    straight = tmp_path / "straight.h5"
    assert run(extract_args(folder, straight, "--layers", "layer1,layer2", "--crop", "48"), capsys)[0] == 0
    assert_same_cache(out, straight)


class _FakeDisk:
    """``capacity`` bytes for Python's own writes in ``blocks_tui.cache.parts``; ENOSPC beyond them."""

    def __init__(self, capacity: int) -> None:
        self.free = capacity

    def open(self, path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        real = open(path, mode, *args, **kwargs)  # noqa: SIM115 - closed by the wrapper
        return _Limited(real, self, str(path)) if "w" in mode else real

    def free_bytes(self, _folder: Path) -> int:
        return self.free


class _Limited:
    """A file whose writes fail with ENOSPC once the fake disk is full, like a real one."""

    def __init__(self, real: Any, disk: _FakeDisk, name: str) -> None:
        self.real, self.disk, self.name = real, disk, name

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if size > self.disk.free:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.name)
        self.disk.free -= size
        return self.real.write(data)

    def __enter__(self) -> "_Limited":
        return self

    def __exit__(self, *_: object) -> None:
        self.real.close()


def test_full_fake_disk(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    disk = _FakeDisk(capacity=700_000)
    monkeypatch.setattr(parts_module, "open", disk.open, raising=False)
    monkeypatch.setattr(writer_module, "free_bytes", disk.free_bytes)
    monkeypatch.setattr(diskfull, "free_bytes", disk.free_bytes)
    out = tmp_path / "fake.h5"
    args = extract_args(folder, out, "--layers", "layer1,layer2", "--crop", "48")
    code, err = run(args, capsys)
    lines = _error_lines(err)
    assert code == 1 and len(lines) == 1 and lines[0].startswith("blocks-tui: error: disk full in "), err
    done = finished_parts(parts_folder(out))
    assert done and not out.exists() and not [p for p in parts_folder(out).iterdir() if ".tmp" in p.name]
    monkeypatch.undo()  # space freed
    assert run(args, capsys)[0] == 0
    straight = tmp_path / "straight.h5"
    assert run(extract_args(folder, straight, "--layers", "layer1,layer2", "--crop", "48"), capsys)[0] == 0
    assert_same_cache(out, straight)


def test_full_disk_while_saving_a_checkpoint(small_disk: Path) -> None:
    model = DemoCNN(35)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize - 64 * 1024))
    target = small_disk / "epoch-5.pt"
    with pytest.raises(BlocksError) as refused:
        save_state_dict(model, target)
    message = str(refused.value)
    assert message.startswith(f"disk full in {small_disk}") and "epoch-5.pt" in message and "\n" not in message
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no epoch-5.pt, no temp file
    filler.unlink()
    save_state_dict(model, target)
    loaded = torch.load(target, weights_only=True)
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())


_HDF5_HITS_THE_FULL_DISK = """
import sys, numpy as np
from pathlib import Path
from blocks_tui.cache import writer
writer.ensure_room = lambda path, needed: None  # as if another process filled the disk after the check
w = writer.CacheWriter(Path(sys.argv[1]), {})
w.write_classes(["a", "b"])
w.write_hierarchy(["all", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), "file")
try:
    w.write_samples(np.zeros(400, int), ["x"] * 400, np.random.default_rng(0).integers(0, 255, (400, 64, 64, 3), np.uint8))
    w.set_progress(400, 400)
except Exception as exc:
    print("write failed:", type(exc).__name__)
w.abandon(delete=True)
print("abandoned")
"""


def test_abandoning_after_hdf5_hit_a_full_disk_does_not_crash(small_disk: Path) -> None:
    out = small_disk / "raced.h5"
    done = subprocess.run([sys.executable, "-c", _HDF5_HITS_THE_FULL_DISK, str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr  # it used to end in a segfault at exit
    assert "write failed" in done.stdout and "abandoned" in done.stdout
    assert not list(small_disk.iterdir())


def test_full_fake_disk_while_saving_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = _FakeDisk(capacity=10_000)  # a demo CNN's state_dict is ~400 KB
    monkeypatch.setattr(parts_module, "open", disk.open, raising=False)
    monkeypatch.setattr(diskfull, "free_bytes", disk.free_bytes)
    with pytest.raises(BlocksError, match=r"^disk full in .*: could not save epoch-5\.pt; the checkpoints saved before"):
        save_state_dict(DemoCNN(35), tmp_path / "epoch-5.pt")
    assert not list(tmp_path.iterdir())  # no epoch-5.pt, no temp file
