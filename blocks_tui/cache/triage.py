"""Triage decisions: a curator's marks on outliers and samples, kept next to the cache.

Why JSON beside the cache rather than inside it: the HDF5 cache is written
once and then opened read-only, often by several viewers; decisions change
with every key press and must survive a crash at any moment, which a small
file replaced atomically does, and a person (or ``jq``) can read it.

Where: for the cache ``x/demo.h5`` the file is ``x/demo.triage.json``
(:func:`triage_path`).  Every change is saved at once through
:func:`~blocks_tui.atomic.atomic_write_bytes` — a new temp file with an
unpredictable name (``O_EXCL | O_NOFOLLOW``, so a planted symlink is never
followed) in the same folder, fsync, rename over the old file, fsync the
folder — so a kill at any moment leaves the previous complete file, never a
torn one.

Two viewers on one cache: each save takes an exclusive ``flock`` on the
sidecar ``x/demo.triage.json.lock``, reads the file as the other viewer left
it, applies this viewer's changes since its last save on top (its own
change wins on the same row) and writes the merge, so neither loses the
other's marks.

Format (``"version": 1``), one JSON object::

    {
      "format": "blocks-tui-triage",      # always this string
      "version": 1,                       # bumped on incompatible changes
      "cache": {                          # which cache the decisions belong to
        "file": "demo.h5",                # its file name (informational, not compared)
        "n_samples": 3500,
        "n_classes": 35,
        "class_names_sha256": "...",      # SHA-256 of the class names joined by "\\n"
        "sources_sha256": "..."           # SHA-256 of the sample sources joined by "\\n"
      },
      "updated": "2024-05-01T12:00:00Z",  # UTC time of the last change
      "outliers": [                       # decisions on class pairs (outlier rows)
        {"true": "missile", "predicted": "projectile",   # class names, the row's direction
         "decision": "redundant",         # one of DECISIONS, or null (a note alone)
         "note": "same thing, merge",     # free text, "" for none
         "updated": "2024-05-01T12:00:00Z"}
      ],
      "samples": [                        # decisions on single samples
        {"sample": 1234,                  # sample id: row in the cache's sample arrays
         "source": "imgs/0001.png",       # that sample's source path, for the curator
         "decision": "mislabeled", "note": "", "updated": "..."}
      ]
    }

Decisions are ``redundant`` (key 1), ``mislabeled`` (2), ``ambiguous`` (3)
and ``expected`` (4); key 0 clears a row (removes its entry, note and all).
Entries are sorted (outliers by class names, samples by id) so that the file
diffs well.

Identity: a triage file belongs to the cache whose sample count, class count,
class names and sample sources it records.  The file name is recorded but
not compared, so renaming a cache together with its triage file keeps the
decisions; a different cache (other classes or samples, where sample ids
would point at other images) is refused.

Problems never stop the viewer; the store keeps a one-line :attr:`TriageStore.message`:

* a corrupt file (not JSON, nested too deep, wrong fields, a count that is
  not an integer, a sample id outside the cache) or one written for another
  cache is moved aside to ``NAME.triage.json.corrupt-YYYYmmddTHHMMSS`` (or
  ``.other-cache-...``), never overwritten, and the store starts empty;
* a file from a newer blocks-tui, one that cannot be read (no permission),
  or something that is not a regular file (a FIFO would block the viewer
  forever) is left untouched and the store keeps marks in memory only;
* a save that fails (read-only folder, disk full) keeps every mark in memory,
  says so, and is retried on the next change; :meth:`TriageStore.export`
  writes the same format anywhere else.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Union

from ..atomic import atomic_write_bytes, check_output
from ..errors import BlocksError
from ..safe_text import printable
from .validate import first_line as _first_line, kind_of

FORMAT = "blocks-tui-triage"
VERSION = 1
SUFFIX = ".triage.json"
DECISIONS = ("redundant", "mislabeled", "ambiguous", "expected")
"""Decision names; key ``str(i + 1)`` marks ``DECISIONS[i]``, key ``0`` clears."""
DECISION_KEYS = {str(i + 1): name for i, name in enumerate(DECISIONS)}
MAX_FILE_BYTES = 256 << 20  # a triage file bigger than this is damage, not decisions
LOCK_SUFFIX = ".lock"
LOCK_WAIT_S = 2.0  # how long a save waits for another viewer's save to finish


class TriageError(BlocksError):
    """A triage file cannot be read or written (one line)."""


def triage_path(cache_path: Path | str) -> Path:
    """``x/demo.h5`` -> ``x/demo.triage.json``."""
    cache_path = Path(cache_path)
    return cache_path.with_name(cache_path.stem + SUFFIX)


@dataclass(frozen=True)
class CacheIdentity:
    """What ties a triage file to one cache; see the module docstring."""

    file: str
    n_samples: int
    n_classes: int
    class_names_sha256: str
    sources_sha256: str

    @classmethod
    def of(cls, file: str, class_names: Iterable[str], sources: Iterable[str]) -> "CacheIdentity":
        names, srcs = list(class_names), list(sources)
        return cls(file, len(srcs), len(names), _sha256_lines(names), _sha256_lines(srcs))

    @classmethod
    def of_cache(cls, cache: Any) -> "CacheIdentity":
        """The identity of an open :class:`~blocks_tui.cache.Cache` (reads its sources once)."""
        return cls.of(Path(cache.path).name, cache.class_names, cache.sources)

    def matches(self, other: "CacheIdentity") -> bool:
        return (self.n_samples, self.n_classes, self.class_names_sha256, self.sources_sha256) == (
            other.n_samples, other.n_classes, other.class_names_sha256, other.sources_sha256)

    def describe(self) -> str:
        return f"{self.file}: {self.n_samples:,} samples, {self.n_classes:,} classes"


@dataclass(frozen=True)
class OutlierKey:
    """An outlier row: the true and predicted class names of its (heavier) cell."""

    true: str
    predicted: str


@dataclass(frozen=True)
class SampleKey:
    """A sample row: its id (row in the cache), which alone identifies it, and its source path."""

    sample: int
    source: str = field(default="", compare=False)


Key = Union[OutlierKey, SampleKey]


@dataclass(frozen=True)
class TriageEntry:
    """One row's decision (None when it only has a note), note and time of the last change."""

    key: Key
    decision: str | None
    note: str
    updated: str


class TriageStore:
    """Decisions of one cache, saved after every change; see the module docstring.

    ``load_message``: None, or one line saying what was wrong with the file
    found on opening (and where it was moved).  ``save_error``: None, or why
    the last save failed.  :attr:`message` is whichever applies, for the
    status bar.  ``saved`` is False while changes exist only in memory.
    """

    def __init__(self, path: Path, identity: CacheIdentity) -> None:
        self.path = Path(path)
        self.identity = identity
        self.cache_path: Path | None = None  # the cache it belongs to, never to be written over
        self.load_message: str | None = None
        self.save_error: str | None = None
        self.saved = True
        self._entries: dict[Key, TriageEntry] = {}
        self._changed: dict[Key, TriageEntry | None] = {}  # this store's changes not yet saved (None: cleared)
        self._locked = False  # True: the file on disk must not be replaced (newer format, unreadable, not a file)

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, cache_path: Path | str, identity: CacheIdentity) -> "TriageStore":
        """The store of the cache at ``cache_path``, restored from its triage file if there is one."""
        store = cls(triage_path(cache_path), identity)
        store.cache_path = Path(cache_path)
        store._load()
        return store

    def _load(self) -> None:
        entries = self._read_disk()
        if entries is not None:
            self._entries = {e.key: e for e in entries}

    def _read_disk(self) -> list[TriageEntry] | None:
        """The entries of the file on disk when it is this cache's and sound; None (and a message, with the file
        moved aside or the store locked) otherwise, or when there is no file."""
        if not os.path.lexists(self.path):
            return None
        try:
            entries, found = read_triage(self.path)
        except LeftAlone as exc:
            self._locked = True
            self.load_message = f"{exc}; it is left untouched and marks stay in memory (export them to keep them)"
            return None
        except TriageError as exc:
            self._set_aside("corrupt", f"{exc}")
            return None
        if not found.matches(self.identity):
            self._set_aside("other-cache", f"{self.path.name} belongs to another cache ({found.describe()}, "
                                            f"this is {self.identity.describe()})")
            return None
        return entries

    def _set_aside(self, tag: str, problem: str) -> None:
        stem = f"{self.path.name}.{tag}-{time.strftime('%Y%m%dT%H%M%S')}"
        aside, n = self.path.with_name(stem), 1
        while aside.exists():  # two problems within a second: never overwrite the first one kept aside
            aside, n = self.path.with_name(f"{stem}-{n}"), n + 1
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            self._locked = True
            self.load_message = (f"{problem}; could not move it aside ({exc.strerror or exc}), so it is left as it was "
                            "and marks stay in memory")
            return
        self.load_message = f"{problem}; moved it to {aside.name} and started with no marks"

    # -- reading ---------------------------------------------------------------------
    def get(self, key: Key) -> TriageEntry | None:
        return self._entries.get(key)

    def key_for_pair(self, true: str, predicted: str) -> OutlierKey:
        """The key a class pair's decision lives under: ``true → predicted``, the heavier direction now.
        Another result set may flip which way is heavier, so a decision saved the other way round is
        found and kept under its key rather than lost."""
        key, flipped = OutlierKey(true, predicted), OutlierKey(predicted, true)
        return flipped if self.get(key) is None and self.get(flipped) is not None else key

    def decision(self, key: Key) -> str | None:
        entry = self._entries.get(key)
        return entry.decision if entry else None

    def entries(self) -> list[TriageEntry]:
        """Every entry, outliers first (by class names), then samples (by id)."""
        return sorted(self._entries.values(), key=_sort_key)

    def __len__(self) -> int:
        return len(self._entries)

    # -- changing (each saves at once) ------------------------------------------------
    def mark(self, key: Key, decision: int | str | None) -> bool:
        """Set ``key``'s decision: a name of :data:`DECISIONS`, its key 1-4, or 0/None to clear.

        Clearing removes the entry, note included.  Returns whether the
        change reached the disk (else see :attr:`message`).
        """
        name = _decision_name(decision)
        if name is None:
            return self.clear(key)
        old = self._entries.get(key)
        self._set(key, TriageEntry(key, name, old.note if old else "", _now()))
        return self.save()

    def note(self, key: Key, text: str) -> bool:
        """Set ``key``'s free-text note ("" removes it; an entry with neither decision nor note goes)."""
        text = text.strip()
        old = self._entries.get(key)
        if old is None and not text:
            return self.saved
        if old is not None and old.decision is None and not text:
            self._set(key, None)
        else:
            self._set(key, TriageEntry(key, old.decision if old else None, text, _now()))
        return self.save()

    def clear(self, key: Key) -> bool:
        """Remove ``key``'s decision and note."""
        if key not in self._entries:
            return self.saved
        self._set(key, None)
        return self.save()

    def _set(self, key: Key, entry: TriageEntry | None) -> None:
        """Change one row in memory and remember it for the next save's merge."""
        if entry is None:
            self._entries.pop(key, None)
        else:
            self._entries[key] = entry
        self._changed[key] = entry

    # -- writing ---------------------------------------------------------------------
    def save(self) -> bool:
        """Merge this store's changes into the file on disk and write it atomically, under the sidecar lock;
        False (and :attr:`message` says why) when it could not."""
        try:
            with _locked(self.path.with_name(self.path.name + LOCK_SUFFIX)):
                on_disk = None if self._locked else self._read_disk()
                if self._locked:  # newer format, unreadable or not a file: on opening, or since
                    self.saved = False
                    self.save_error = f"not saving over {self.path}; marks are kept in memory (export them to keep them)"
                    return False
                if on_disk is not None:  # another viewer's marks, with this one's changes on top
                    merged = {e.key: e for e in on_disk}
                    for key, entry in self._changed.items():
                        if entry is None:
                            merged.pop(key, None)
                        else:
                            merged[key] = entry
                    self._entries = merged
                atomic_write_bytes(self.path, self.to_json().encode("utf-8"))
        except OSError as exc:
            self.saved = False
            self.save_error = (f"cannot write {self.path}: {exc.strerror or exc}; marks are kept in memory "
                               "(export them to another folder)")
            return False
        self._changed.clear()
        self.saved = True
        self.save_error = None
        return True

    @property
    def message(self) -> str | None:
        """The line to show: why saving fails, else what was wrong on opening, else None."""
        return self.save_error or self.load_message

    def export(self, path: Path | str) -> Path:
        """Write the decisions, in the same format, to ``path`` (atomically); raises TriageError."""
        path = Path(path)
        if path.is_dir():
            path = path / self.path.name
        protected = [(self.path, "this cache's triage file")]
        if self.cache_path is not None:
            protected.append((self.cache_path, "the cache"))
        try:
            check_output(path, protected)
            atomic_write_bytes(path, self.to_json().encode("utf-8"))
        except OSError as exc:
            raise TriageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return path

    def to_json(self) -> str:
        entries = self.entries()
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "cache": {
                "file": self.identity.file,
                "n_samples": self.identity.n_samples,
                "n_classes": self.identity.n_classes,
                "class_names_sha256": self.identity.class_names_sha256,
                "sources_sha256": self.identity.sources_sha256,
            },
            "updated": max((e.updated for e in entries), default=_now()),
            "outliers": [_entry_json(e) for e in entries if isinstance(e.key, OutlierKey)],
            "samples": [_entry_json(e) for e in entries if isinstance(e.key, SampleKey)],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


class LeftAlone(TriageError):
    """A triage file the store must not replace: from a newer blocks-tui, unreadable, or not a regular file."""


class NewerFormat(LeftAlone):
    """The triage file comes from a newer blocks-tui."""


def read_triage(path: Path | str) -> tuple[list[TriageEntry], CacheIdentity]:
    """Parse a triage file without changing anything (the report uses this); raises TriageError.

    Raises :class:`LeftAlone` for a file that is fine to keep but cannot be
    used (newer format, no permission, a FIFO or device), TriageError for a
    damaged one.
    """
    path = Path(path)
    raw = _read_bytes(path)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except RecursionError as exc:
        raise TriageError(f"{path.name} is damaged (nested too deeply)") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise TriageError(f"{path.name} is not valid JSON ({printable(_first_line(exc), 200)})") from exc
    try:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("not a blocks-tui triage file")
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"invalid version {printable(version, 40)}")
        if version > VERSION:
            raise NewerFormat(f"{path.name} has triage format version {version}, newer than this "
                              f"blocks-tui reads ({VERSION})")
        c = doc["cache"]
        identity = CacheIdentity(str(c["file"]), _count(c, "n_samples"), _count(c, "n_classes"),
                                 str(c["class_names_sha256"]), str(c["sources_sha256"]))
        entries = [_entry_from(e, OutlierKey(_text(e, "true"), _text(e, "predicted"))) for e in doc["outliers"]]
        entries += [_entry_from(e, SampleKey(_sample_id(e, identity.n_samples), str(e.get("source", ""))))
                    for e in doc["samples"]]
    except LeftAlone:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        raise TriageError(f"{path.name} is damaged ({printable(_first_line(exc), 200)})") from exc
    return entries, identity


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, opened without blocking and only if it is a regular file of a sane size."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LeftAlone(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LeftAlone(f"{path.name} is {kind_of(info.st_mode)}, not a triage file")
        if info.st_size > MAX_FILE_BYTES:
            raise TriageError(f"{path.name} is damaged ({info.st_size:,} bytes, more than any triage file)")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    except OSError as exc:
        raise LeftAlone(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


class _locked:
    """An exclusive ``flock`` on a sidecar lock file, held while a save merges and writes.

    The lock file is never replaced or deleted (deleting it would let two
    savers lock two different files), is opened without following a link
    and without blocking on a FIFO, and a save that cannot get the lock
    within LOCK_WAIT_S fails like a failed write: marks stay in memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> "_locked":
        flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.path, flags, 0o666)
        try:
            if not stat.S_ISREG(os.fstat(self.fd).st_mode):
                raise OSError(errno.EPERM, f"{self.path.name} is not a regular file")
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return self
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OSError(errno.EWOULDBLOCK, "another viewer is saving and did not finish") from None
                    time.sleep(0.01)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


# -- helpers -------------------------------------------------------------------------
def _decision_name(decision: int | str | None) -> str | None:
    if decision is None or decision in (0, "0", "clear"):
        return None
    if isinstance(decision, int) and not isinstance(decision, bool) and 1 <= decision <= len(DECISIONS):
        return DECISIONS[decision - 1]
    if isinstance(decision, str):
        if decision in DECISION_KEYS:
            return DECISION_KEYS[decision]
        if decision in DECISIONS:
            return decision
    raise ValueError(f"decision must be 0-{len(DECISIONS)} or one of {', '.join(DECISIONS)}, got {decision!r}")


def _entry_json(e: TriageEntry) -> dict[str, Any]:
    head: dict[str, Any] = (
        {"true": e.key.true, "predicted": e.key.predicted} if isinstance(e.key, OutlierKey)
        else {"sample": e.key.sample, "source": e.key.source}
    )
    return {**head, "decision": e.decision, "note": e.note, "updated": e.updated}


def _entry_from(raw: dict[str, Any], key: Key) -> TriageEntry:
    decision = raw.get("decision")
    if decision is not None and decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise ValueError("a note is not text")
    return TriageEntry(key, decision, note, str(raw.get("updated", "")))


def _text(raw: dict[str, Any], field: str) -> str:
    value = raw[field]
    if not isinstance(value, str):
        raise ValueError(f"{field!r} is not text")
    return value


def _sample_id(raw: dict[str, Any], n_samples: int) -> int:
    value = raw["sample"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_samples:
        raise ValueError(f"sample id {printable(value, 40)} is not a sample of the cache (0 to {n_samples - 1})")
    return value


def _count(raw: dict[str, Any], field: str) -> int:
    """A count in the ``cache`` object: a non-negative JSON integer (not Infinity, NaN, 1.5 or true)."""
    value = raw[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} {printable(value, 40)} is not a count")
    return value


def _sort_key(e: TriageEntry) -> tuple:
    if isinstance(e.key, OutlierKey):
        return (0, e.key.true, e.key.predicted, 0)
    return (1, "", "", e.key.sample)


def _sha256_lines(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


__all__ = [
    "CacheIdentity",
    "DECISIONS",
    "DECISION_KEYS",
    "Key",
    "OutlierKey",
    "SampleKey",
    "TriageEntry",
    "TriageError",
    "TriageStore",
    "LeftAlone",
    "read_triage",
    "triage_path",
]
