"""Atomic file replacement: temp file, fsync, rename, fsync the folder.

A reader either sees the old file or the complete new one, never a torn
write, even if the process is killed or the machine loses power mid-way.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's (or folder's) data to disk."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_file(tmp: Path, final: Path) -> None:
    """Make ``tmp`` durable and move it over ``final`` in one atomic step."""
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(final.parent if str(final.parent) else Path("."))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (via ``path`` + ``.tmp``)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent if str(path.parent) else Path("."))
