"""What a rerun may reuse: the parts folder's manifest check and ``--overwrite``'s discard.

Parts are reused only when the manifest, which holds content hashes of the
checkpoint and of the data list, is identical: a checkpoint changed in place
or an edited data folder refuses to resume with one line instead of mixing
two models' rows.  ``--overwrite`` discards the old parts first: always for a
single-process run; for a sharded run only when they are of another run,
since the other shards' parts in the same folder are this run's.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..cache.parts import manifest_changes, read_manifest, write_manifest
from ..errors import CacheError
from .locks import refuse_if_running


@contextmanager
def _serialised(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` itself, so shards started together check and discard once.

    Best effort: where directories cannot be locked (some network file systems) it just runs.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise
        yield
    finally:
        os.close(fd)


def prepare_parts_folder(folder: Path, manifest: Mapping[str, Any], overwrite: bool, shards: int) -> None:
    """Create or reuse ``folder`` for this run's parts; discard old ones if ``overwrite`` says so."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _serialised(folder.parent):
        if overwrite and folder.exists() and (shards == 1 or _is_other_run(folder, manifest)):
            refuse_if_running(folder)
            discard(folder)
        write_manifest(folder, manifest)


def _is_other_run(folder: Path, manifest: Mapping[str, Any]) -> bool:
    try:
        return bool(manifest_changes(read_manifest(folder), manifest))
    except CacheError:  # a damaged manifest: nothing in the folder can be trusted
        return True


def discard(folder: Path) -> None:
    """Remove a parts folder: renamed away first (atomic), so no one ever sees it half deleted."""
    trash = folder.with_name(f"{folder.name}.discarded-{os.getpid()}")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
