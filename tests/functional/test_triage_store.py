"""The triage store: decisions saved atomically after every change, restored, and safe from crashes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from blocks_tui.cache.triage import (
    DECISIONS,
    CacheIdentity,
    OutlierKey,
    SampleKey,
    TriageError,
    TriageStore,
    read_triage,
    triage_path,
)

from time_limits import fail_after

IDENTITY = CacheIdentity.of("demo.h5", ["cat", "dog", "car"], [f"img/{i}.png" for i in range(10)])
PAIR = OutlierKey("cat", "dog")


def _on_disk(cache: Path) -> dict:
    return json.loads(triage_path(cache).read_text())


def test_path_sits_next_to_the_cache() -> None:
    assert triage_path(Path("x/demo.h5")) == Path("x/demo.triage.json")


def test_round_trip_restores_every_mark_and_note(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    store = TriageStore.open(cache, IDENTITY)
    assert len(store) == 0 and store.message is None
    assert store.mark(PAIR, 1)
    assert store.note(PAIR, "same animal, two names")
    assert store.mark(SampleKey(7, "img/7.png"), "mislabeled")
    assert store.mark(OutlierKey("car", "cat"), 3)
    assert store.note(SampleKey(2, "img/2.png"), "blurry")  # a note without a decision

    again = TriageStore.open(cache, IDENTITY)
    assert again.message is None
    assert again.decision(PAIR) == "redundant" and again.get(PAIR).note == "same animal, two names"
    assert again.decision(SampleKey(7)) == "mislabeled" and again.get(SampleKey(7)).key.source == "img/7.png"
    assert again.decision(OutlierKey("car", "cat")) == "ambiguous"
    assert again.get(SampleKey(2)).decision is None and again.get(SampleKey(2)).note == "blurry"
    assert [e.key for e in again.entries()] == [OutlierKey("car", "cat"), PAIR, SampleKey(2), SampleKey(7)]


def test_every_change_is_on_disk_at_once(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    store = TriageStore.open(cache, IDENTITY)
    store.mark(PAIR, 4)
    assert _on_disk(cache)["outliers"][0]["decision"] == "expected"
    store.mark(PAIR, "2")
    assert _on_disk(cache)["outliers"][0]["decision"] == "mislabeled"
    store.note(PAIR, "look again")
    assert _on_disk(cache)["outliers"][0]["note"] == "look again"
    store.mark(PAIR, 0)  # 0 clears: the entry goes, note included
    assert _on_disk(cache)["outliers"] == []
    assert store.get(PAIR) is None
    doc = _on_disk(cache)
    assert doc["format"] == "blocks-tui-triage" and doc["version"] == 1
    assert doc["cache"]["n_samples"] == 10 and doc["cache"]["n_classes"] == 3


def test_bad_decisions_are_refused(tmp_path: Path) -> None:
    store = TriageStore.open(tmp_path / "demo.h5", IDENTITY)
    for bad in (5, "9", "merge", True):
        with pytest.raises(ValueError, match="decision must be"):
            store.mark(PAIR, bad)
    assert len(store) == 0
    assert DECISIONS == ("redundant", "mislabeled", "ambiguous", "expected")


def test_corrupt_file_is_kept_aside_and_the_store_opens_empty(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    garbage = b'{"format": "blocks-tui-triage", "version": 1, "outl'
    triage_path(cache).write_bytes(garbage)
    store = TriageStore.open(cache, IDENTITY)
    assert len(store) == 0
    assert store.message is not None and "not valid JSON" in store.message and "moved it to" in store.message
    assert "\n" not in store.message
    kept = list(tmp_path.glob("demo.triage.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert not triage_path(cache).exists()
    store.mark(PAIR, 1)  # the next save writes a fresh file and leaves the kept one alone
    assert kept[0].read_bytes() == garbage
    assert TriageStore.open(cache, IDENTITY).decision(PAIR) == "redundant"


def test_damaged_fields_count_as_corrupt(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    store = TriageStore.open(cache, IDENTITY)
    store.mark(SampleKey(1), 2)
    doc = _on_disk(cache)
    doc["samples"][0]["sample"] = "one"
    triage_path(cache).write_text(json.dumps(doc))
    with pytest.raises(TriageError, match="damaged"):
        read_triage(triage_path(cache))
    reopened = TriageStore.open(cache, IDENTITY)
    assert len(reopened) == 0 and "damaged" in reopened.message
    assert len(list(tmp_path.glob("demo.triage.json.corrupt-*"))) == 1


def test_file_of_another_cache_is_refused_not_overwritten(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    TriageStore.open(cache, IDENTITY).mark(PAIR, 1)
    original = triage_path(cache).read_bytes()
    other = CacheIdentity.of("demo.h5", ["cat", "dog", "bus"], [f"img/{i}.png" for i in range(10)])
    store = TriageStore.open(cache, other)
    assert len(store) == 0 and "another cache" in store.message
    kept = list(tmp_path.glob("demo.triage.json.other-cache-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == original
    # A renamed cache with the same classes and samples keeps its decisions.
    renamed = CacheIdentity.of("renamed.h5", ["cat", "dog", "car"], [f"img/{i}.png" for i in range(10)])
    target = tmp_path / "renamed.h5"
    os.replace(kept[0], triage_path(target))
    assert TriageStore.open(target, renamed).decision(PAIR) == "redundant"


def test_newer_format_is_left_untouched(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    TriageStore.open(cache, IDENTITY).mark(PAIR, 1)
    doc = _on_disk(cache)
    doc["version"] = 99
    triage_path(cache).write_text(json.dumps(doc))
    before = triage_path(cache).read_bytes()
    store = TriageStore.open(cache, IDENTITY)
    assert "newer" in store.message
    assert store.mark(PAIR, 3) is False and store.decision(PAIR) == "ambiguous"
    assert triage_path(cache).read_bytes() == before


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder where creating a file really fails: chmod 0o555, or (as root, who ignores modes) a path under a file."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    probe = folder / "probe"
    try:
        probe.write_bytes(b"")
    except OSError:
        return folder
    probe.unlink()
    folder.chmod(0o755)
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(OSError):
        (blocker / "probe").write_bytes(b"")
    return blocker


def test_read_only_folder_keeps_marks_in_memory_and_export_writes_elsewhere(tmp_path: Path) -> None:
    folder = _unwritable_folder(tmp_path)
    try:
        store = TriageStore.open(folder / "demo.h5", IDENTITY)
        assert store.message is None
        assert store.mark(PAIR, 1) is False
        assert store.mark(SampleKey(3, "img/3.png"), 2) is False
        assert not store.saved
        assert store.message.startswith(f"cannot write {folder / 'demo.triage.json'}")
        assert "kept in memory" in store.message and "\n" not in store.message
        assert store.decision(PAIR) == "redundant" and store.decision(SampleKey(3)) == "mislabeled"
        assert not (folder / "demo.triage.json").exists()

        exported = store.export(tmp_path / "elsewhere.json")
        entries, identity = read_triage(exported)
        assert identity.matches(IDENTITY)
        assert {(e.key, e.decision) for e in entries} == {(PAIR, "redundant"), (SampleKey(3), "mislabeled")}
        with pytest.raises(TriageError, match="cannot write"):
            store.export(folder / "x.json")
    finally:
        if folder.is_dir():
            folder.chmod(0o755)


_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from blocks_tui.cache.triage import CacheIdentity, OutlierKey, TriageStore

    identity = CacheIdentity.of("demo.h5", ["cat", "dog", "car"], [f"img/{i}.png" for i in range(10)])
    store = TriageStore.open(Path(sys.argv[1]), identity)
    key = OutlierKey("cat", "dog")
    assert store.note(key, "0:" + "x" * 2_000_000 + ":0")
    if sys.argv[2] == "stall":
        # Hold the next save after the temp file is written and before the rename.
        def stall(fd):
            print("in-save", flush=True)
            time.sleep(60)
        os.fsync = stall
    print("ready", flush=True)
    i = 1
    while True:
        # Big notes make each save long enough for random kills to land inside some.
        store.note(key, f"{i}:" + "x" * 2_000_000 + f":{i}")
        i += 1
""")


def _kill_writer(cache: Path, mode: str, wait: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(cache), mode], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        if mode == "stall":
            assert proc.stdout.readline().strip() == "in-save"
            assert list(cache.parent.glob("demo.triage.json.*.tmp"))  # really inside a save
        time.sleep(wait)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _whole_note(cache: Path) -> int:
    """The saved note's save number, after checking the file opens cleanly and holds one whole save."""
    store = TriageStore.open(cache, IDENTITY)
    assert store.message is None, store.message  # parsed, same cache, nothing moved aside
    note = store.get(PAIR).note
    head = note.partition(":")[0]
    assert note == f"{head}:" + "x" * 2_000_000 + f":{head}"  # never a torn mix of two saves
    return int(head)


def test_writer_killed_inside_a_save_leaves_the_previous_file(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    _kill_writer(cache, "stall", 0.0)
    assert _whole_note(cache) == 0  # the save in flight never replaced the file
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_writer_killed_at_random_times_always_leaves_a_complete_file(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    rng = random.Random(7)
    for _ in range(6):
        _kill_writer(cache, "loop", rng.uniform(0.0, 0.4))
        _whole_note(cache)
    assert not list(tmp_path.glob("*.corrupt-*"))


# -- hostile and concurrent files (issue 14.10) ---------------------------------------------------------
def test_deeply_nested_json_is_damage_not_a_crash(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    triage_path(cache).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(TriageError, match="nested too deeply"):
        read_triage(triage_path(cache))
    store = TriageStore.open(cache, IDENTITY)
    assert len(store) == 0 and "nested too deeply" in store.message and "\n" not in store.message
    assert len(list(tmp_path.glob("demo.triage.json.corrupt-*"))) == 1


@pytest.mark.parametrize("count", ["Infinity", "-Infinity", "NaN", "1.5", "true", "-3", '"10"'])
def test_a_count_that_is_not_an_integer_is_damage(tmp_path: Path, count: str) -> None:
    cache = tmp_path / "demo.h5"
    TriageStore.open(cache, IDENTITY).mark(PAIR, 1)
    text = triage_path(cache).read_text().replace('"n_samples": 10', f'"n_samples": {count}')
    triage_path(cache).write_text(text)
    with pytest.raises(TriageError, match="n_samples .* is not a count"):
        read_triage(triage_path(cache))
    store = TriageStore.open(cache, IDENTITY)
    assert len(store) == 0 and "is not a count" in store.message


@pytest.mark.parametrize("sample", [10, 10**9, 2**70, -1])
def test_sample_ids_outside_the_cache_are_damage(tmp_path: Path, sample: int) -> None:
    cache = tmp_path / "demo.h5"
    store = TriageStore.open(cache, IDENTITY)
    store.mark(SampleKey(9, "img/9.png"), 2)  # the last sample is fine
    assert TriageStore.open(cache, IDENTITY).decision(SampleKey(9)) == "mislabeled"
    doc = _on_disk(cache)
    doc["samples"][0]["sample"] = sample
    triage_path(cache).write_text(json.dumps(doc))
    with pytest.raises(TriageError, match="is not a sample of the cache"):
        read_triage(triage_path(cache))


def test_a_fifo_is_left_alone_without_blocking(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    os.mkfifo(triage_path(cache))
    fail_after(5)
    try:
        store = TriageStore.open(cache, IDENTITY)
        assert "is a FIFO, not a triage file" in store.message and "left untouched" in store.message
        assert store.mark(PAIR, 1) is False and store.decision(PAIR) == "redundant"  # kept in memory
        with pytest.raises(TriageError, match="is a FIFO"):
            read_triage(triage_path(cache))
    finally:
        signal.alarm(0)
    assert triage_path(cache).is_fifo()
    assert not list(tmp_path.glob("demo.triage.json.*-*"))


def test_a_file_it_may_not_read_is_left_alone_not_called_corrupt(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "demo.h5"
    TriageStore.open(cache, IDENTITY).mark(PAIR, 1)
    before = triage_path(cache).read_bytes()
    triage_path(cache).chmod(0)
    real_open = os.open

    def no_read(path, flags, *args):  # noqa: ANN001, ANN202 - root ignores chmod 0, so deny as a kernel would
        if Path(path) == triage_path(cache) and not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_read)
    store = TriageStore.open(cache, IDENTITY)
    assert store.message.startswith("cannot read demo.triage.json: Permission denied")
    assert "left untouched" in store.message and "corrupt" not in store.message
    assert store.mark(SampleKey(1), 2) is False  # never written over the file it could not read
    monkeypatch.undo()
    triage_path(cache).chmod(0o644)
    assert triage_path(cache).read_bytes() == before
    assert not list(tmp_path.glob("demo.triage.json.corrupt-*"))


def test_two_viewers_on_one_cache_keep_each_others_marks(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    first, second = TriageStore.open(cache, IDENTITY), TriageStore.open(cache, IDENTITY)
    assert first.mark(PAIR, 1) and second.mark(SampleKey(4, "img/4.png"), 2)
    assert first.note(SampleKey(5, "img/5.png"), "blurry")
    reopened = TriageStore.open(cache, IDENTITY)
    assert reopened.decision(PAIR) == "redundant" and reopened.decision(SampleKey(4)) == "mislabeled"
    assert reopened.get(SampleKey(5)).note == "blurry"
    assert first.decision(SampleKey(4)) == "mislabeled"  # a save brings the other viewer's marks in
    # A clear in one viewer is not undone by the other's next save, and its own change wins on a shared row.
    assert second.clear(PAIR) and first.mark(SampleKey(4), 3)
    final = TriageStore.open(cache, IDENTITY)
    assert final.decision(PAIR) is None and final.decision(SampleKey(4)) == "ambiguous"


_MARKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from blocks_tui.cache.triage import CacheIdentity, SampleKey, TriageStore

    identity = CacheIdentity.of("demo.h5", ["cat", "dog", "car"], [f"img/{i}.png" for i in range(200)])
    store = TriageStore.open(Path(sys.argv[1]), identity)
    first = int(sys.argv[2])
    for sample in range(first, first + 40):
        assert store.mark(SampleKey(sample, f"img/{sample}.png"), 1 + sample % 4), store.message
""")


def test_two_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    procs = [subprocess.Popen([sys.executable, "-c", _MARKER, str(cache), str(first)]) for first in (0, 100)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    identity = CacheIdentity.of("demo.h5", ["cat", "dog", "car"], [f"img/{i}.png" for i in range(200)])
    entries, _ = read_triage(triage_path(cache))
    assert sorted(e.key.sample for e in entries) == list(range(40)) + list(range(100, 140))
    assert TriageStore.open(cache, identity).message is None


def test_a_planted_symlink_is_never_written_through(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    triage_path(cache).with_name("demo.triage.json.tmp").symlink_to(victim)
    assert TriageStore.open(cache, IDENTITY).mark(PAIR, 1)
    assert victim.read_text() == "precious"
    assert TriageStore.open(cache, IDENTITY).decision(PAIR) == "redundant"
    # A link planted as the lock file fails the save (marks stay in memory) and is not followed either.
    lock = triage_path(cache).with_name("demo.triage.json.lock")
    lock.unlink()
    lock.symlink_to(victim)
    store = TriageStore.open(cache, IDENTITY)
    assert store.mark(PAIR, 2) is False and store.message.startswith("cannot write")
    assert victim.read_text() == "precious"
    assert not list(tmp_path.glob("*.tmp")) or all(p.is_symlink() for p in tmp_path.glob("*.tmp"))


def test_export_never_writes_over_the_cache_or_its_own_triage_file(tmp_path: Path) -> None:
    cache = tmp_path / "demo.h5"
    cache.write_bytes(b"\x89HDF\r\n\x1a\n the cache itself")
    store = TriageStore.open(cache, IDENTITY)
    store.mark(OutlierKey("cat", "dog"), 1)
    for target, what in ((cache, "the cache"), (tmp_path / "demo.triage.json", "triage file")):
        with pytest.raises(TriageError, match=what):
            store.export(target)
    assert cache.read_bytes() == b"\x89HDF\r\n\x1a\n the cache itself"
    assert store.export(tmp_path / "copy.json").exists()
