"""``blocks-tui bench scale``: what a user waits for and what the viewer holds, from 1k to ImageNet-21k sizes.

Each size gets a synthetic cache (``make-synthetic``, written once and kept
in the cache folder; its build time and peak memory are part of the
report).  Then, per size: process start to the first frame in a pty and the
viewer's resident memory at that moment, the two triage rankings the ``o``
and ``m`` panels run, and ``summary`` as a process with its peak memory.
The sizes sit side by side, so a figure at 10,000 classes is read against
the same figure at 1,000 in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .analysis import timed
from .ui import first_frame

GOALS_AT_10K = {"first frame": 3.0, "RSS at first frame": 600.0, "o ranking": 1.0, "m ranking": 1.0,
                "summary": 2.0}
"""Issue 17's goals at 10,000 classes and 1,000,000 samples (seconds, or MB)."""
FIRST_FRAME_GOAL_1K = 1.0


@dataclass
class ScaleRow:
    """Every figure of one size; NaN where a step was not run (a cache that was already there)."""

    classes: int
    samples: int
    build_s: float
    build_mb: float
    first_frame_s: float
    first_frame_mb: float
    outliers_s: float
    mislabels_s: float
    summary_s: float
    summary_mb: float


def run_measured(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of a child process, from its own resource usage (``wait4``)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} failed: {child.stderr.read().decode(errors='replace')[-400:]}"
                           if child.stderr else f"{argv} failed")
    return wall, usage.ru_maxrss / 1024  # Linux reports kilobytes


def bench_size(path: Path, classes: int, samples: int, log: Callable[[str], None] = lambda line: None,
               frame_timeout: float = 120.0) -> ScaleRow:
    """Every figure for one size; the cache at ``path`` is written first when missing."""
    from ..analysis import Tree
    from ..cache import open_cache
    from ..tui.jobs import compute_mislabel_rows, compute_outlier_rows

    python = [sys.executable, "-m", "blocks_tui"]
    build_s = build_mb = float("nan")
    if not path.exists():
        log(f"writing {path} ({classes:,} classes x {samples:,} samples) once...")
        build_s, build_mb = run_measured([*python, "make-synthetic", str(path), "--classes", str(classes),
                                          "--samples", str(samples)])
    log(f"{classes:,} classes: start to first frame...")
    frame_s, frame_mb = first_frame(path, timeout=frame_timeout)
    log(f"{classes:,} classes: the o and m rankings, summary...")
    with open_cache(path) as cache:
        tree = Tree.from_hierarchy(cache.hierarchy)
        result = cache.default_result()
        r = cache.result(result)
        _ = r.topk_index, r.topk_prob, r.true_prob, cache.labels  # read before the clock starts
        outliers_s = timed(lambda: compute_outlier_rows(cache, tree, result))[0]
        mislabels_s = timed(lambda: compute_mislabel_rows(cache, result))[0]
    summary_s, summary_mb = run_measured([*python, "summary", str(path)])
    return ScaleRow(classes, samples, build_s, build_mb, frame_s, frame_mb, outliers_s, mislabels_s, summary_s,
                    summary_mb)


def format_scale(rows: list[ScaleRow], environment: str) -> str:
    """One column per size; the last column holds the goal at the largest size and whether it is met."""
    def seconds(value: float) -> str:
        if value != value:
            return "–"
        return f"{1000 * value:.0f} ms" if value < 1 else f"{value:.2f} s"

    def megabytes(value: float) -> str:
        return "–" if value != value else f"{value:,.0f} MB"

    figures = [
        ("make-synthetic (first run only)", lambda r: f"{seconds(r.build_s)}, {megabytes(r.build_mb)}", None),
        ("first frame", lambda r: seconds(r.first_frame_s), lambda r: r.first_frame_s),
        ("RSS at first frame", lambda r: megabytes(r.first_frame_mb), lambda r: r.first_frame_mb),
        ("o ranking", lambda r: seconds(r.outliers_s), lambda r: r.outliers_s),
        ("m ranking", lambda r: seconds(r.mislabels_s), lambda r: r.mislabels_s),
        ("summary", lambda r: f"{seconds(r.summary_s)}, {megabytes(r.summary_mb)}", lambda r: r.summary_s),
    ]
    heads = [f"{r.classes:,} x {r.samples:,}" for r in rows]
    width = max(18, *(len(h) for h in heads)) + 2
    lines = [f"blocks-tui bench scale on {environment}", "",
             f"{'figure':34}" + "".join(f"{h:>{width}}" for h in heads) + "   goal at the largest size"]
    largest = max(rows, key=lambda r: (r.classes, r.samples))
    for name, shown, value in figures:
        cells = "".join(f"{shown(r):>{width}}" for r in rows)
        goal = _goal(name, largest)
        verdict = "" if goal is None or value is None else (
            f"≤ {goal:g}{' MB' if 'RSS' in name else ' s'} " + ("ok" if value(largest) <= goal else "MISSED"))
        lines.append(f"{name:34}{cells}   {verdict}")
    return "\n".join(lines)


def _goal(name: str, row: ScaleRow) -> float | None:
    if row.classes >= 10_000:
        return GOALS_AT_10K.get(name)
    return FIRST_FRAME_GOAL_1K if name == "first frame" else None
