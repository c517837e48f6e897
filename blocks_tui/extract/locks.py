"""Who holds a file, and a per-shard run lock that no child process inherits.

A killed extraction must never leave a lock behind that makes the rerun fail.
HDF5 locks its files with ``flock``, which a forked child shares with its
parent, so the runner opens HDF5 output only after its data-loader workers
have started (and the workers die with their parent, see ``loader.py``).
The run lock here is a POSIX record lock instead: it belongs to the process
alone, is never inherited by a fork, and goes away with the process that
took it.  When a lock is held anyway, :func:`held_by` says which process
holds the file, so the error names it instead of quoting HDF5's errno 11.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from ..errors import BlocksError
from ..safe_text import printable

RUN_LOCK = "run.lock"


def is_alive(pid: int) -> bool:
    """True for a running process (a zombie holds no files)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False
    except (OSError, IndexError):
        return False
    try:  # no /proc (macOS): ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().rstrip(b"\0").split(b"\0")
    except OSError:
        return "?"
    return printable(" ".join(w.decode("utf-8", "replace") for w in words), 120)


def holders_of(path: Path) -> list[int]:
    """Processes on this machine with ``path`` locked or open (Linux ``/proc``; empty elsewhere)."""
    try:
        target = os.stat(path)
    except OSError:
        return []
    def others(pids: list[int]) -> list[int]:
        return sorted({pid for pid in pids if pid != os.getpid() and is_alive(pid)})

    # The lock's owner when it is alive; else (a flock inherited by children of a dead owner) who has it open.
    return others(_lockers(target)) or others(_openers(target))


def _lockers(target: os.stat_result) -> list[int]:
    """Pids ``/proc/locks`` lists for the file (flock records the pid that took the lock)."""
    inode = f"{os.major(target.st_dev):02x}:{os.minor(target.st_dev):02x}:{target.st_ino}"
    pids = []
    try:
        with open("/proc/locks") as f:  # "1: POSIX ADVISORY WRITE <pid> <maj>:<min>:<inode> <start> <end>"
            for fields in (line.split() for line in f):
                if len(fields) >= 6 and fields[5] == inode and fields[4].isdigit():
                    pids.append(int(fields[4]))
    except OSError:
        pass
    return pids


def _openers(target: os.stat_result) -> list[int]:
    """Pids with a descriptor open on the file: what ``fuser`` finds."""
    pids = []
    try:
        procs = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return []
    for proc in procs:
        try:
            for fd in (proc / "fd").iterdir():
                info = os.stat(fd)
                if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
                    pids.append(int(proc.name))
                    break
        except OSError:  # gone, or not ours to look at
            continue
    return pids


def held_by(path: Path) -> str:
    """``process 123 (blocks-tui extract ...)``, or what to suspect when no holder is visible."""
    pids = holders_of(path)
    if not pids:
        return "another process (none visible on this machine: one on another host, or of another user?)"
    shown = ", ".join(f"{pid} ({_command_of(pid)})" for pid in pids[:3])
    return f"process{'es' if len(pids) > 1 else ''} {shown}"


def locked_error(path: Path, what: str = "is locked by") -> BlocksError:
    """One line naming the locked file and its holder."""
    return BlocksError(f"{printable(path)} {what} {held_by(path)}; wait for it to finish or stop it, then run again")


def is_hdf5_lock_error(exc: BaseException) -> bool:
    """HDF5's 'unable to lock file, errno = 11' (or 35, EAGAIN on macOS)."""
    return isinstance(exc, OSError) and "unable to lock file" in str(exc).lower()


def refuse_if_locked(path: Path) -> None:
    """Raise now, before any work, if another process holds the HDF5 (``flock``) lock on ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # not there (or not readable): HDF5 will say what is wrong when it gets there
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise locked_error(path) from None
    finally:
        os.close(fd)  # releases the probe's lock


class RunLock:
    """Byte ``shard`` of ``folder/run.lock``, locked for as long as this process works on that shard.

    Two processes on the same shard would write the same parts and race to
    merge; the second is refused at once with the first one's pid instead.
    """

    def __init__(self, folder: Path, shard: int) -> None:
        self.path = folder / RUN_LOCK
        self.shard = shard
        self.fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self.shard)
        except OSError as exc:
            os.close(self.fd)
            self.fd = None
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                raise locked_error(self.path, "is held by another extraction of the same shard:") from None
            raise
        return self

    def __exit__(self, *_: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the record lock
            self.fd = None


def refuse_if_running(folder: Path) -> None:
    """Raise when any process holds a shard of ``folder``'s run lock (before discarding its parts)."""
    path = folder / RUN_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the whole file: free only if no shard holds a byte
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            raise locked_error(path, "is held by an extraction still running:") from None
        raise
    finally:
        os.close(fd)
