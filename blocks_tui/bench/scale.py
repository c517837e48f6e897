"""``blocks-tui bench scale``: what a user waits for and what the viewer holds, from 1k to ImageNet-21k sizes.

Each size gets a synthetic cache (``make-synthetic``, written once and kept
in the cache folder; its build time and peak memory are part of the
report).  Then, per size: process start to the first frame in a pty (the
second of two starts, warm) and the viewer's resident memory at that
moment, the two triage rankings the ``o`` and ``m`` panels run, and
``summary`` as a process with its peak memory.
Then the per-key CPU of the headless viewer, whole-tree seriation and a
32-block partition (the worker's part), the response map's cold frame, and
in a pty the first layer shown and the memory after four layers and a
seriation.  The sizes sit side by side, so a figure at 10,000 classes is
read against the same figure at 1,000 in the same run.
"""

from __future__ import annotations

import gc
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
                "summary": 2.0, "cursor key CPU": 0.010, "zoom in CPU": 0.050, "zoom out CPU": 0.050,
                "seriation, whole tree": 20.0, "first layer shown": 3.0, "RSS after 4 layers + seriation": 1000.0,
                "response map cold frame": 0.005}
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
    cursor_cpu_s: float = float("nan")
    zoom_in_cpu_s: float = float("nan")
    zoom_out_cpu_s: float = float("nan")
    seriation_s: float = float("nan")
    partition_s: float = float("nan")
    layer_s: float = float("nan")  # Tab to the first layer's map drawn, in a pty
    layer_samples_s: float = float("nan")  # Tab to its samples read (its neurons can be ranked)
    layers_mb: float = float("nan")  # RSS after four layers and a seriation, in a pty
    layers_peak_mb: float = float("nan")
    response_cold_s: float = float("nan")


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
               frame_timeout: float = 120.0, presses: int = 20) -> ScaleRow:
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
    # The second of two starts: the first warms the page cache.  A cold start reads the labels and
    # predictions at the disk's speed (22 s for the 10k cache once this VM had dropped its pages).
    first_frame(path, timeout=frame_timeout)
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
    row = ScaleRow(classes, samples, build_s, build_mb, frame_s, frame_mb, outliers_s, mislabels_s, summary_s,
                   summary_mb)
    log(f"{classes:,} classes: keys, seriation and partition, the response map...")
    in_process_figures(path, row, presses)
    log(f"{classes:,} classes: four layers and a seriation in a pty...")
    row.layer_s, row.layer_samples_s, row.layers_mb, row.layers_peak_mb = layers_and_seriation(
        path, timeout=frame_timeout)
    return row


def in_process_figures(path: Path, row: ScaleRow, presses: int = 20) -> None:
    """CPU per key (headless Pilot), whole-tree seriation and a 32-block partition (the worker's part), and
    the response map's cold frame at 200x60 on the first layer."""
    import asyncio

    from ..cache import open_cache
    from ..tui.jobs import compute_partition, compute_seriation
    from ..tui.model import ViewerModel
    from ..tui.responses import load_layer, rank_neurons
    from .ui import UiReport, key_times, response_frame_times, response_map_app

    with open_cache(path) as cache:
        model = ViewerModel.open(cache)
        report = UiReport(row.classes, row.samples)
        asyncio.run(key_times(model, presses, report))
        cpu = {k.name.split(" (")[0]: k.cpu_ms / 1000 for k in report.keys}
        row.cursor_cpu_s, row.zoom_in_cpu_s, row.zoom_out_cpu_s = cpu["cursor move"], cpu["zoom in"], cpu["zoom out"]
        model.zoom.to_top()
        classes, root = model.window_classes(), model.zoom.seriation_target()
        assert root is not None
        row.seriation_s = timed(lambda: compute_seriation(root, classes, model.counts, cache.class_names,
                                                          "spectral", model.base, model.pairs, model.compare_pairs))[0]
        row.partition_s = timed(lambda: compute_partition(model.counts, classes, 32))[0]
        if cache.layer_names:
            view = load_layer(cache, cache.layer_names[0], cache.n_classes)
            d = model.display
            group = d.children(d.root)[0]
            ranking = rank_neurons(view, cache.labels, d.order[d.start[group]:d.stop[group]], model.to_base(group),
                                   d.names[group])

            async def frames() -> float:
                async with response_map_app(model, view, ranking) as (app, _):
                    return response_frame_times(app, 12)[0] / 1000

            # The key timings above left a dozen closed apps' widget cycles behind; a viewer has one app, so
            # collect them first rather than time the collector walking them during the frames.
            gc.collect()
            row.response_cold_s = asyncio.run(frames())


def layers_and_seriation(path: Path, size: tuple[int, int] = (200, 60), timeout: float = 120.0
                         ) -> tuple[float, float, float, float]:
    """The viewer in a pty: Tab to the response map and ``]`` through four layers, each waited for until its
    samples are read, then Tab back and ``s`` Enter (whole-tree spectral seriation) until its adopt dialog.
    Returns (seconds from Tab to the first layer's map, to its samples read, MB resident at the end, peak MB
    resident); NaN without layers."""
    from ..cache import open_cache
    from .ui import resident_mb, viewer_session

    with open_cache(path) as cache:
        channels = [cache.layer(name).channels for name in cache.layer_names[:4]]
    if not channels:
        return float("nan"), float("nan"), float("nan"), float("nan")
    with viewer_session(path, size) as session:
        if not session.wait_for("▀".encode(), timeout=timeout):
            raise RuntimeError(f"no matrix drawn within {timeout:.0f} s")
        shown = read = float("nan")
        for i, count in enumerate(channels):
            sent = session.send("tab" if i == 0 else "]")
            if not session.wait_for(f"{count} neurons".encode(), timeout=timeout, since=sent):
                raise RuntimeError(f"layer {i + 1} ({count} neurons) not shown within {timeout:.0f} s")
            at = time.monotonic()
            # Its samples read: the title's last state.  A small layer gets there in the same write as its
            # map, so the search starts at the key, not at the map.
            if not session.wait_for(b"pick a group to rank", timeout=timeout, since=sent):
                raise RuntimeError(f"layer {i + 1}'s samples not read within {timeout:.0f} s")
            if i == 0:
                shown, read = at - sent, time.monotonic() - sent
        session.wait_quiet(since=session.send("tab"))
        session.wait_quiet(since=session.send("s"))
        if not session.wait_for(b"Adopt it", timeout=timeout, since=session.send("enter")):
            raise RuntimeError(f"the seriation did not finish within {timeout:.0f} s")
        resident, peak = resident_mb(session.pid), resident_mb(session.pid, "VmHWM")
        session.send("q")
    return shown, read, resident, peak


def format_scale(rows: list[ScaleRow], environment: str) -> str:
    """One column per size; the last column holds the goal at the largest size and whether it is met."""
    def seconds(value: float) -> str:
        if value != value:
            return "–"
        if value < 0.1:
            return f"{1000 * value:.1f} ms"
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
        ("cursor key CPU", lambda r: seconds(r.cursor_cpu_s), lambda r: r.cursor_cpu_s),
        ("zoom in CPU", lambda r: seconds(r.zoom_in_cpu_s), lambda r: r.zoom_in_cpu_s),
        ("zoom out CPU", lambda r: seconds(r.zoom_out_cpu_s), lambda r: r.zoom_out_cpu_s),
        ("seriation, whole tree", lambda r: seconds(r.seriation_s), lambda r: r.seriation_s),
        ("partition, 32 blocks", lambda r: seconds(r.partition_s), None),
        ("first layer shown", lambda r: seconds(r.layer_s), lambda r: r.layer_s),
        ("first layer's samples read", lambda r: seconds(r.layer_samples_s), None),
        ("RSS after 4 layers + seriation", lambda r: f"{megabytes(r.layers_mb)} (peak {megabytes(r.layers_peak_mb)})",
         lambda r: r.layers_mb),
        ("response map cold frame", lambda r: seconds(r.response_cold_s), lambda r: r.response_cold_s),
    ]
    heads = [f"{r.classes:,} x {r.samples:,}" for r in rows]
    width = max(18, *(len(h) for h in heads), *(len(shown(r)) for _, shown, _ in figures for r in rows)) + 2
    lines = [f"blocks-tui bench scale on {environment}", "",
             f"{'figure':34}" + "".join(f"{h:>{width}}" for h in heads) + "   goal at the largest size"]
    largest = max(rows, key=lambda r: (r.classes, r.samples))
    for name, shown, value in figures:
        cells = "".join(f"{shown(r):>{width}}" for r in rows)
        goal = _goal(name, largest)
        verdict = "" if goal is None or value is None else (
            f"≤ {megabytes(goal) if 'RSS' in name else seconds(goal)} "
            + ("ok" if value(largest) <= goal else ("–" if value(largest) != value(largest) else "MISSED")))
        lines.append(f"{name:34}{cells}   {verdict}")
    smallest = min(rows, key=lambda r: (r.classes, r.samples))
    if smallest is not largest:
        ok = smallest.first_frame_s <= FIRST_FRAME_GOAL_1K
        lines += ["", f"first frame at {smallest.classes:,} classes: {seconds(smallest.first_frame_s)}, goal "
                  f"≤ {seconds(FIRST_FRAME_GOAL_1K)} " + ("ok" if ok else "MISSED")]
    return "\n".join(lines)


def _goal(name: str, row: ScaleRow) -> float | None:
    return GOALS_AT_10K.get(name) if row.classes >= 10_000 else None
