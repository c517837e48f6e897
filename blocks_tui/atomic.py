"""Atomic file replacement: temp file, fsync, rename, fsync the folder.

A reader either sees the old file or the complete new one, never a torn
write, even if the process is killed or the machine loses power mid-way.

Writing beside someone else's files is also an attack surface: a fixed temp
name such as ``NAME.tmp`` opened the ordinary way follows a symlink planted
there, and a rename over a FIFO or a device node replaces it with a plain
file.  So the temp file gets an unpredictable name and is created with
``O_EXCL | O_NOFOLLOW`` (it must be new, and never a link), and nothing that
exists as anything other than a regular file is ever replaced.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path
from typing import Iterable

_TEMP_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0))


class UnsafeOutput(OSError):
    """Writing to this path would destroy something that must not be replaced (a cache, a FIFO, a device)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(errno.EPERM, reason, str(path))


def fsync_path(path: Path) -> None:
    """Flush a file's (or folder's) data to disk."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same inode (links, ``./x`` vs ``x``), else the same real path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where the names lead
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: Path | str, protected: Iterable[tuple[Path | str, str]] = ()) -> None:
    """Raise :class:`UnsafeOutput` unless writing ``path`` can only replace a regular file of ours.

    ``protected`` pairs each file that must survive (the input cache, its
    triage file) with what to call it in the message.  A path that exists as
    a folder, a FIFO, a socket or a device (also through a symlink) is
    refused; a missing path, a regular file, or a symlink to one is fine (the
    rename then replaces the link, never its target).
    """
    path = Path(path)
    for other, what in protected:
        if _same_file(path, Path(other)):
            raise UnsafeOutput(path, f"is {what}; refusing to write over it")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # nothing there, or a dangling link: the rename replaces the link itself
        return
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        raise UnsafeOutput(path, f"is {kind}; refusing to replace it with a file")


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def commit_file(tmp: Path, final: Path) -> None:
    """Make ``tmp`` durable and move it over ``final`` in one atomic step (never over a FIFO or device)."""
    check_output(final)
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(_folder(final))


def _new_temp(path: Path) -> tuple[int, Path]:
    """A new, unpredictable temp file beside ``path``, opened write-only; never an existing file or a link."""
    while True:
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o666), tmp  # 0o666 less the umask, as open() would give
        except FileExistsError:  # 2^-64 odds, or someone guessing: pick another name
            continue


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, via a unique temp file in the same folder.

    Raises :class:`UnsafeOutput` (an ``OSError``) when ``path`` exists as
    something other than a regular file.  A file that is replaced keeps its
    permission bits; a new one gets the umask's.
    """
    path = Path(path)
    check_output(path)
    try:
        keep: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        keep = None
    fd, tmp = _new_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            if keep is not None:
                os.fchmod(f.fileno(), keep)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_path(_folder(path))
