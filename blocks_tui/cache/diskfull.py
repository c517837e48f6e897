"""A full disk is the user's to fix: say so in one line, and leave what is done intact.

Writes fail with ENOSPC in several shapes: a plain ``OSError`` from Python's
own file calls, an ``OSError`` or ``RuntimeError`` from h5py whose text
quotes HDF5's "errno = 28" over two lines (so checkpoints are serialised
in memory first: ``torch.save``'s zip writer reports no errno at all).  This
module recognises them, so callers can turn any of them into one
:class:`~blocks_tui.errors.BlocksError` line.
"""

from __future__ import annotations

import errno
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .writer import free_bytes
from ..errors import BlocksError
from ..safe_text import printable

_FULL = (errno.ENOSPC, errno.EDQUOT)
_FULL_TEXT = ("no space left on device", "disk quota exceeded", "errno = 28", "errno = 122")


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a write that found no space."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL:
            return True
        if any(text in str(current).lower() for text in _FULL_TEXT):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(folder: Path, what_is_safe: str) -> BlocksError:
    """``disk full in FOLDER (N MiB free): WHAT_IS_SAFE``, one line."""
    free = free_bytes(folder)
    room = f" ({free / 2**20:.1f} MiB free)" if free is not None else ""
    return BlocksError(f"disk full in {printable(folder)}{room}: {what_is_safe}")


@contextmanager
def one_line_when_full(folder: Path, what_is_safe: Callable[[], str],
                       on_full: Callable[[], None] | None = None) -> Iterator[None]:
    """Re-raise a disk-full error from the block as :func:`disk_full_error`; others pass unchanged.

    ``on_full`` runs first (to delete a file that cannot be finished and only
    takes space); ``what_is_safe`` is asked afterwards, so it can count what survived.
    """
    try:
        yield
    except BlocksError:
        raise
    except Exception as exc:  # noqa: BLE001 - only disk-full errors are translated; the rest re-raise
        if not is_disk_full(exc):
            raise
        if on_full is not None:
            on_full()
        raise disk_full_error(folder, what_is_safe()) from None
