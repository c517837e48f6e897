"""The fuzz test of issue 14: every command on a few hundred seeded damaged caches.

Each seed makes one damaged copy of a small complete cache (``fuzz_caches``:
bytes flipped or zeroed, truncation, groups and datasets swapped, wrong ranks
and dtypes, k = 0, invalid UTF-8, 10 MB attributes, sizes declared beyond the
file, a corrupt gzip chunk, odd thumbnails, a FIFO or a device, a damaged
triage file).  ``info``, ``summary --json``, ``report`` and ``view`` run in
process (forked, so a hang or a crash is counted, not suffered), every lazy
read is checked against its contract, and the viewer is driven by keys on
every sixth seed.  Each run must exit 0 or print one clean line, within its
time limit; a failure names its seed, and ``python tests/fuzz_caches.py
--first SEED --count 1`` reproduces it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import fuzz_caches as fz

SEEDS = range(0, 8 * len(fz.KINDS))  # eight of each kind
VIEWER_EVERY = 6
LIMIT_S = 10.0  # per command; tiny caches take a tenth of a second, so only a hang comes near it


@pytest.fixture(autouse=True)
def _truecolor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")  # as the other viewer tests run; forked children inherit it


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[fz.Mutant]]:
    folder = tmp_path_factory.mktemp("fuzz")
    base = fz.build_base(folder)
    fz.preload()
    return folder, base, fz.corpus(base, folder, SEEDS)


def _failures(runs: list[fz.Run]) -> str:
    return "\n".join(r.describe() for r in fz.problems(runs))


def test_the_valid_cache_works_in_every_command(corpus: tuple[Path, Path, list[fz.Mutant]]) -> None:
    """The control: on the undamaged cache every command succeeds, so 'clean' below means refused."""
    folder, base, _ = corpus
    runs = fz.run(fz.COMMANDS, fz.Mutant(-1, "none", base, "the valid cache", False), folder / "scratch", LIMIT_S,
                  images="halfcell")
    expected = ["clean" if command == "view" else "ok" for command in fz.COMMANDS]  # view: no terminal
    assert [r.outcome for r in runs] == expected, "".join(r.describe() + r.stderr for r in runs)
    assert "which is not a terminal" in runs[fz.COMMANDS.index("view")].stderr


def test_every_command_on_every_damaged_cache_is_ok_or_one_clean_line(
        corpus: tuple[Path, Path, list[fz.Mutant]]) -> None:
    folder, _, mutants = corpus
    assert {m.kind for m in mutants} == set(fz.KINDS)
    runs = [r for m in mutants for r in fz.run(fz.commands_for(m, VIEWER_EVERY), m, folder / "scratch", LIMIT_S)]
    assert len(runs) >= 5 * len(mutants)
    assert not fz.problems(runs), f"{len(fz.problems(runs))} of {len(runs)} runs broke the promise:\n" + _failures(runs)
    refused = {r.mutant.kind for r in runs if r.outcome == "clean"}
    assert refused >= {k for k in fz.KINDS if k != "triage"}  # every kind of cache damage was met and refused somewhere


def test_the_viewer_shows_a_corrupt_thumbnail_chunk_as_a_message(corpus: tuple[Path, Path, list[fz.Mutant]]) -> None:
    folder, _, mutants = corpus
    damaged = next(m for m in mutants if m.kind == "thumb_gzip")
    runs = fz.run(("reads", "viewer"), damaged, folder / "scratch", LIMIT_S, images="halfcell")
    assert runs[0].outcome == "clean" and "samples/thumbnail" in runs[0].stderr  # the reader's half: one CacheError
    assert runs[1].outcome == "ok", _failures(runs)


def test_the_viewer_shows_unreadable_sources_as_a_message(corpus: tuple[Path, Path, list[fz.Mutant]]) -> None:
    folder, _, mutants = corpus
    runs = []
    for damaged in (m for m in mutants if m.kind == "string_ids"):
        reads, viewer = fz.run(("reads", "viewer"), damaged, folder / "scratch", LIMIT_S)
        if reads.outcome == "clean" and "samples/source" in reads.stderr:  # the reader's half: one CacheError
            runs.append(viewer)
    assert runs and all(r.outcome == "ok" for r in runs), _failures(runs)
