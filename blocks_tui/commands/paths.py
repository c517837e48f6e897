"""Where caches are found and outputs go, checked before any work starts.

Every subcommand that takes a cache name or writes a file goes through
these, so a bare name means the same file everywhere, and no command can
overwrite its own input, the user's triage marks, or a FIFO or device.
"""

from __future__ import annotations

import argparse
import difflib
import os
from pathlib import Path
from typing import Sequence

from ..errors import BlocksError, CacheError, UsageError

DEFAULT_CACHE_DIR = Path("cache")
CACHE_DIR_ENV = "BLOCKS_CACHE_DIR"
DEMO_NAME = "demo"


def cache_dir(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else ``$BLOCKS_CACHE_DIR``, else ``./cache``."""
    if args.cache_dir:
        return Path(args.cache_dir)
    return Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)


def resolve_cache(name_or_path: str, folder: Path) -> Path:
    """A path as given, or a bare name looked up as ``FOLDER/NAME.h5``."""
    given = Path(name_or_path)
    if given.exists() or given.suffix or len(given.parts) > 1:
        return given
    return folder / f"{name_or_path}.h5"


def the_cache(args: argparse.Namespace) -> Path:
    """The cache the ``CACHE`` argument names, in the cache folder unless it is a path."""
    return resolve_cache(args.cache, cache_dir(args))


def existing_cache(args: argparse.Namespace) -> Path:
    """The cache to read; a missing one is an error that says how to get one."""
    path = the_cache(args)
    if path.exists() or path.is_symlink():  # a dangling link: the reader says what is wrong with it
        return path
    raise CacheError(f"{path}: no such file; {missing_cache_hint(path, cache_dir(args))}")


def missing_cache_hint(path: Path, folder: Path) -> str:
    """The next step for a cache that is not there: build the demo, a name close to the one typed, or what
    the folder holds."""
    if path == folder / f"{DEMO_NAME}.h5":
        return "`blocks-tui demo` builds the demo cache there (about a minute on a laptop)"
    where = path.parent if str(path.parent) else Path(".")
    caches = sorted(p.name for p in where.glob("*.h5")) if where.is_dir() else []
    close = difflib.get_close_matches(path.name, caches, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(close)}?"
    if caches:
        shown = ", ".join(caches[:6]) + (f" and {len(caches) - 6} more" if len(caches) > 6 else "")
        return f"{where} holds {shown}"
    return (f"{where} holds no caches: `blocks-tui demo` builds one, `blocks-tui extract` makes one from your "
            "model and images")


def writable_output(path: Path, overwrite: bool) -> Path:
    """Check, before any work, that a cache can be written at ``path`` without losing one."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'out.h5'}")
    _refuse_unsafe(path, "", ())
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    if folder.exists() and not os.access(folder, os.W_OK):
        raise BlocksError(f"cannot write in {folder}: permission denied or read-only")
    return path


def _refuse_unsafe(output: Path, option: str, protected: Sequence[tuple[Path, str]]) -> None:
    from ..atomic import UnsafeOutput, check_output

    try:
        check_output(output, protected)
    except UnsafeOutput as exc:
        raise UsageError(f"{option}{' ' if option else ''}{output} {exc.strerror}") from None


def output_beside(output: Path, cache: Path, option: str) -> Path:
    """Refuse, before any work, an ``option`` file that would overwrite the input cache, its triage file
    (the user's marks), or something that is not a regular file (a FIFO, a device, a folder)."""
    from ..cache.triage import triage_path

    _refuse_unsafe(output, option, [(cache, "the input cache"), (triage_path(cache), "the cache's triage file")])
    return output
