"""A cache's saved triage decisions, read without changing anything (``blocks-tui report``).

The viewer's :class:`~blocks_tui.cache.triage.TriageStore` may set a damaged
file aside; a report must not touch the user's marks at all, so it reads
them here and says in one line why it ignored a file it could not use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .reader import Cache
from .triage import CacheIdentity, TriageEntry, TriageError, read_triage, triage_path


@dataclass(frozen=True)
class SavedDecisions:
    """Where the triage file is, its decisions, and ``status``: ``loaded``, ``none`` (no file), or
    ``ignored: <why>`` (written for another cache, damaged, newer, unreadable)."""

    path: Path
    status: str
    entries: list[TriageEntry] = field(default_factory=list)


def saved_decisions(cache: Cache) -> SavedDecisions:
    """The decisions saved beside ``cache``, when they were made on this very cache.

    Reads the cache's sources first, whether or not a file is there, so a
    damaged cache fails here as one error and not after a warning about its file.
    """
    identity = CacheIdentity.of_cache(cache)
    path = triage_path(cache.path)
    if not path.exists():
        return SavedDecisions(path, "none")
    try:
        entries, found = read_triage(path)
    except TriageError as exc:
        return SavedDecisions(path, f"ignored: {exc}")
    if not found.matches(identity):
        return SavedDecisions(path, f"ignored: written for another cache ({found.describe()})")
    return SavedDecisions(path, "loaded", entries)
