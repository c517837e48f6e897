"""``blocks-tui bench ui``: frame time, key latency and start-up at 1000 classes.

Three measurements, each against its goal, on a synthetic cache written
once by :mod:`blocks_tui.synthetic.scale` (numpy only):

* **Frame**: a 200x60 :class:`ConfusionMatrix` alone in an app; the time to
  compute a frame (pyramid bins and codes) and build all 60 strips with an
  empty strip cache ("cold"), then the same 60 lines again ("warm").
* **Keys**: the viewer and an empty Textual app, headless at 200x60, each
  pressing the same keys through the Pilot.  ``pilot.press`` returns once
  the app is idle (Textual's own test: two ``wait_for_idle`` rounds, then
  a message round trip through every widget of the screen), so its wall
  time is key-to-idle.  Idle detection sleeps in steps of 20 ms and calls
  a step busy when it used 1 ms of CPU, so an app that repaints anything
  at all on a key needs one step more than the empty app (about 62 ms
  against 41 ms, 1.5x), and the round trip adds about 0.06 ms per widget.
  Two controls measure that floor: an app that repaints one character per
  key, and the same app holding as many idle widgets as the viewer.  The
  CPU time per key is reported beside it: what the keys cost without the
  sleeps.
* **Start-up**: ``python -m blocks_tui view CACHE`` in a pseudo-terminal,
  from process start until the first matrix half block (``▀``) is written.
* **Response map**: loading a 512-channel layer of 50k samples (a worker's
  job), ranking its neurons for a group (Eq. 2, another), then a 200x60
  frame of the map, cold, against the matrix's cold frame in the same run.
* **Sample pane**: showing a 5,000-sample selection (a tree node's true
  positives: find, group by class, decode the visible thumbnails, lay out)
  until the app is idle again, against a one-sample selection: only what
  is on screen is decoded, so the two should cost about the same.
* **Pictures in a terminal**: the viewer in a pty in Sixel, Kitty-graphics
  and half-cell mode, a new page of thumbnails per key, timed from the key
  to the last byte written (:mod:`~blocks_tui.bench.ui_pictures`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable

import numpy as np
from textual.app import App, ComposeResult
from textual.widget import Widget

from ..cache import open_cache
from ..pty_session import PtySession
from ..tui.keymap import LoadedKeymap
from ..tui.model import ViewerModel
from ..tui.widgets.matrix import ConfusionMatrix
from .ui_pictures import PictureTiming, format_pictures, picture_times

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from ..analysis.response_view import LayerView
    from ..tui.app import BlocksApp
    from ..tui.responses import Ranking

FRAME_GOAL_MS = 5.0
KEY_GOAL_RATIO = 1.5
FIRST_FRAME_GOAL_S = 1.5
SIZE = (200, 60)
LAYER_CHANNELS = (64, 512)  # the response map is measured on the second
PANE_SELECTION = 5_000


@dataclass
class KeyTiming:
    """Medians over the presses of one key, for the viewer and the empty app."""

    name: str
    wall_ms: float
    cpu_ms: float
    empty_wall_ms: float
    empty_cpu_ms: float
    floor_wall_ms: float  # the one-repaint app
    matched_wall_ms: float  # the one-repaint app with as many widgets as the viewer

    @property
    def ratio(self) -> float:
        return self.wall_ms / self.empty_wall_ms


@dataclass
class UiReport:
    classes: int
    samples: int
    frame_data_ms: float = 0.0
    strips_cold_ms: float = 0.0
    strips_warm_ms: float = 0.0
    frame_bins: int = 0
    keys: list[KeyTiming] = field(default_factory=list)
    widgets: int = 0  # in the viewer's screen during the key timings
    first_frame_s: list[float] = field(default_factory=list)
    layer_channels: int = 0
    layer_load_s: float = 0.0
    rank_ms: float = 0.0
    rank_group: int = 0  # samples in the ranked group
    response_cold_ms: float = 0.0
    response_warm_ms: float = 0.0
    pane_samples: int = 0
    pane_big_ms: float = 0.0
    pane_small_ms: float = 0.0
    pictures: list[PictureTiming] = field(default_factory=list)

    @property
    def frame_cold_ms(self) -> float:
        return self.frame_data_ms + self.strips_cold_ms


def ensure_cache(path: Path, classes: int, samples: int, log: Callable[[str], None]) -> Path:
    """Write the synthetic cache once: a small layer and a 512-channel one for the response map."""
    if not path.exists():
        from ..synthetic.scale import generate, write_synthetic_cache

        log(f"writing {path} ({classes:,} classes, {samples:,} samples) once...")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_cache(path, generate(classes, samples, LAYER_CHANNELS, seed=0), seed=0)
    return path


class _MatrixOnly(App[None]):
    """Just the matrix widget, so a frame is exactly SIZE."""

    CSS = "ConfusionMatrix { width: 1fr; height: 1fr; background: #121212; }"

    def compose(self) -> ComposeResult:
        yield ConfusionMatrix(id="matrix")


class _Empty(App[None]):
    """The baseline: an app with nothing in it, pressed with the same keys."""


class _Counter(Widget):
    """One character that changes on every key."""

    DEFAULT_CSS = "_Counter { height: 1; }"
    count = 0

    def render(self) -> str:
        return str(self.count % 10)


class _Idle(Widget):
    """A widget that draws nothing and never changes: it only answers the Pilot's round trip."""

    DEFAULT_CSS = "_Idle { height: 0; }"


class _OneRepaint(App[None]):
    """The floor: the least an app can do on a key and still show it (repaint one character).

    ``widgets``: how many widgets its screen holds in all (padded with :class:`_Idle` ones), to
    compare with an app of that many widgets.
    """

    def __init__(self, widgets: int = 0) -> None:
        super().__init__()
        self.padding = max(0, widgets - 2)  # the screen and the counter

    def compose(self) -> ComposeResult:
        yield _Counter()
        for _ in range(self.padding):
            yield _Idle()

    def on_key(self) -> None:
        counter = self.query_one(_Counter)
        counter.count += 1
        counter.refresh()


async def _frame_times(model: ViewerModel, rounds: int, report: UiReport) -> None:
    app = _MatrixOnly()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        widget = app.query_one(ConfusionMatrix)
        width, height = widget.size
        data, cold, warm = [], [], []
        for i in range(rounds):
            model.zoom.to_top()
            if i % 2:  # alternate the whole matrix with its largest child block
                children = model.display.children(model.display.root)
                model.zoom.to(max(children, key=model.display.size))
            t0 = time.perf_counter()
            frame = model.frame(width, height, widget.palette.n_levels)
            t1 = time.perf_counter()
            widget.show_frame(frame, (0, 0))
            for y in range(height):
                widget.render_line(y)
            t2 = time.perf_counter()
            for y in range(height):
                widget.render_line(y)
            t3 = time.perf_counter()
            data.append(t1 - t0)
            cold.append(t2 - t1)
            warm.append(t3 - t2)
            report.frame_bins = max(report.frame_bins, frame.bins)
        report.frame_data_ms = 1000 * statistics.median(data)
        report.strips_cold_ms = 1000 * statistics.median(cold)
        report.strips_warm_ms = 1000 * statistics.median(warm)


async def _response_and_pane_times(model: ViewerModel, rounds: int, report: UiReport) -> None:
    """The response map's worker jobs and frame, and filling the sample pane, in the real viewer."""
    from ..analysis.sample_selection import group_by_class
    from ..tui.responses import load_layer, rank_neurons

    cache = model.cache
    name = cache.layer_names[-1]
    t0 = time.perf_counter()
    view = load_layer(cache, name, len(cache.class_names))
    report.layer_load_s = time.perf_counter() - t0
    report.layer_channels = view.n_channels
    d = model.display
    # The node whose true positives come closest to PANE_SELECTION samples: the pane's big selection.
    sizes = [len(model.index.group_samples(d.order[d.start[v]:d.stop[v]], "tp")) for v in range(d.n_nodes)]
    node = min(range(d.n_nodes), key=lambda v: abs(sizes[v] - PANE_SELECTION))
    classes = d.order[d.start[node]:d.stop[node]]
    ranks = []
    for _ in range(3):
        t0 = time.perf_counter()
        ranking = rank_neurons(view, cache.labels, classes, model.to_base(node), d.names[node])
        ranks.append(time.perf_counter() - t0)
    report.rank_ms = 1000 * statistics.median(ranks)
    report.rank_group = int(np.isin(cache.labels, classes).sum())
    async with response_map_app(model, view, ranking) as (app, pilot):
        report.response_cold_ms, report.response_warm_ms = response_frame_times(app, rounds)
        big = model.selections.node(node)
        report.pane_samples = len(big.ids)
        small = model.selections.ranked("sample", "one sample", big.ids[:1])
        timings: dict[str, list[float]] = {"big": [], "small": []}
        for i in range(rounds):
            for key, selection in (("big", big), ("small", small)):
                t0 = time.perf_counter()
                app.samples.grid._images.clear()  # cold: every visible thumbnail read and decoded again
                app.flow.show(selection)
                await pilot.pause()
                timings[key].append(time.perf_counter() - t0)
        assert len(group_by_class(big.ids, cache.labels)) > 0
        report.pane_big_ms = 1000 * statistics.median(timings["big"])
        report.pane_small_ms = 1000 * statistics.median(timings["small"])


@asynccontextmanager
async def response_map_app(model: ViewerModel, view: LayerView, ranking: Ranking | None
                           ) -> AsyncIterator[tuple[BlocksApp, Pilot]]:
    """The viewer, headless at :data:`SIZE`, showing ``view`` (loaded beforehand) on the response map."""
    from ..tui.app import BlocksApp

    model.zoom.to_top()
    app = BlocksApp(model, keymap=LoadedKeymap(Path("/dev/null")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.centre.responses.layer = app.centre.responses.layer_names.index(view.name)
        app.centre.responses.views[view.name] = view
        app.centre.responses.ranking = ranking
        app.centre.toggle()
        await pilot.pause()
        yield app, pilot


def response_frame_times(app: BlocksApp, rounds: int) -> tuple[float, float]:
    """Median (cold, warm) milliseconds of a response-map frame: levels computed and every line built, with
    other columns and the row layout recomputed each round (as after a zoom), then the same lines again."""
    widget = app.centre.response_map
    cold, warm = [], []
    for i in range(rounds):
        app.centre.responses.first = (i % 4) * 8  # a different set of columns each time
        app.centre.forget_row_layout()  # and the row layout recomputed: a frame as cold as after a zoom
        t0 = time.perf_counter()
        app.centre.redraw_responses()
        for y in range(widget.size.height):
            widget.render_line(y)
        t1 = time.perf_counter()
        for y in range(widget.size.height):
            widget.render_line(y)
        cold.append(t1 - t0)
        warm.append(time.perf_counter() - t1)
    return 1000 * statistics.median(cold), 1000 * statistics.median(warm)


def _screen_widgets(app: App[None]) -> int:
    """Widgets in the app's screen, the screen included: what ``pilot.press`` visits after each key."""
    return len(list(app.screen.walk_children(with_self=True)))


async def _press_times(app: App[None], keys: list[str], presses: int) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of ``pilot.press`` for each round of ``keys`` (the first key's
    figures), and the number of widgets in the screen."""
    walls: list[float] = []
    cpus: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(presses):
            for i, key in enumerate(keys):
                w0, c0 = time.perf_counter(), time.process_time()
                await pilot.press(key)
                if i == 0:
                    walls.append(time.perf_counter() - w0)
                    cpus.append(time.process_time() - c0)
        widgets = _screen_widgets(app)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus), widgets


async def key_times(model: ViewerModel, presses: int, report: UiReport) -> None:
    """The viewer's cursor, zoom-in and zoom-out keys against the empty app and the one-repaint controls."""
    def viewer() -> App[None]:
        from ..tui.app import BlocksApp

        model.zoom.to_top()
        model.cursor = (0, 0)
        return BlocksApp(model, keymap=LoadedKeymap(Path("/dev/null")))

    # (name, keys of one round): the first key is timed, the second puts the state back.
    for name, keys in (("cursor move (j)", ["j", "k"]), ("zoom in (enter)", ["enter", "backspace"])):
        wall, cpu, report.widgets = await _press_times(viewer(), keys, presses)
        empty_wall, empty_cpu, _ = await _press_times(_Empty(), keys, presses)
        floor_wall, _, _ = await _press_times(_OneRepaint(), keys, presses)
        matched_wall, _, _ = await _press_times(_OneRepaint(report.widgets), keys, presses)
        report.keys.append(KeyTiming(name, wall, cpu, empty_wall, empty_cpu, floor_wall, matched_wall))
    wall, cpu = await _zoom_out_times(viewer(), presses)
    empty_wall, empty_cpu = await _zoom_out_times(_Empty(), presses)
    floor_wall, _ = await _zoom_out_times(_OneRepaint(), presses)
    matched_wall, _ = await _zoom_out_times(_OneRepaint(report.widgets), presses)
    report.keys.append(KeyTiming("zoom out (backspace)", wall, cpu, empty_wall, empty_cpu, floor_wall,
                                 matched_wall))


async def _zoom_out_times(app: App[None], presses: int) -> tuple[float, float]:
    """Zoom out is timed after an untimed zoom in, so every timed press really zooms out (the controls
    get the same two keys)."""
    walls: list[float] = []
    cpus: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(presses):
            await pilot.press("enter")
            w0, c0 = time.perf_counter(), time.process_time()
            await pilot.press("backspace")
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)


def first_frame_seconds(path: Path, size: tuple[int, int] = (160, 48), timeout: float = 30.0) -> float:
    """Seconds from starting ``python -m blocks_tui view PATH`` in a pty to its first matrix half block."""
    return first_frame(path, size, timeout)[0]


def first_frame(path: Path, size: tuple[int, int] = (160, 48), timeout: float = 30.0) -> tuple[float, float]:
    """(seconds, resident MB) of ``python -m blocks_tui view PATH`` in a pty when its first matrix half block
    arrives: the start-up a user waits for, and what the viewer holds by then."""
    half_block = "▀".encode()
    started = time.monotonic()  # the clock the recording's chunks are stamped with
    with viewer_session(path, size) as session:
        if not session.wait_for(half_block, timeout=timeout):
            data = session.recording.data[-300:]
            raise RuntimeError(f"no matrix drawn within {timeout:.0f} s (exit code {session.returncode}): {data!r}")
        resident = resident_mb(session.pid)
        seen = b""
        for at, chunk in session.recording.chunks:  # the chunk that completed the first half block
            seen += chunk
            if half_block in seen:
                break
        session.send("q")
    return at - started, resident


def viewer_session(path: Path, size: tuple[int, int]) -> PtySession:
    """``python -m blocks_tui view PATH`` in a pty that says it is a truecolor xterm, thumbnails in half cells,
    without the caller's TEXTUAL debugging variables: how the benchmarks start the viewer."""
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL"}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    return PtySession([sys.executable, "-m", "blocks_tui", "view", str(path), "--images", "halfcell"], size=size,
                      env=env)


def resident_mb(pid: int | None, field: str = "VmRSS") -> float:
    """A process's memory in MB from /proc/PID/status: ``VmRSS`` resident now, ``VmHWM`` its peak (NaN where
    there is no /proc or no process)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def bench_ui(path: Path, classes: int = 1000, samples: int = 50_000, presses: int = 40, repeats: int = 3,
             log: Callable[[str], None] = lambda line: None, picture_presses: int = 10) -> UiReport:
    ensure_cache(path, classes, samples, log)
    report = UiReport(classes, samples)
    log("frames...")
    with open_cache(path) as cache:
        report.classes, report.samples = cache.n_classes, cache.n_samples
        model = ViewerModel.open(cache)
        asyncio.run(_frame_times(model, 2 * presses, report))
        log("keys (viewer and empty app, headless Pilot)...")
        asyncio.run(key_times(model, presses, report))
        log("response map and sample pane...")
        asyncio.run(_response_and_pane_times(model, max(8, presses // 2), report))
    log("start-up in a pseudo-terminal...")
    report.first_frame_s = [first_frame_seconds(path) for _ in range(repeats)]
    if picture_presses:
        log("pictures in a pseudo-terminal (sixel, tgp, halfcell)...")
        report.pictures = picture_times(path, picture_presses)
    return report


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def format_report(r: UiReport) -> str:
    from .analysis import environment

    first = statistics.median(r.first_frame_s)
    lines = [
        f"blocks-tui bench ui on {environment()}",
        f"cache: {r.classes:,} classes, {r.samples:,} samples; matrix viewport {SIZE[0]}x{SIZE[1]} cells, "
        f"{r.frame_bins} bins per side",
        "",
        "frame (median)                          ms    goal",
        f"  frame data (bins, codes)          {r.frame_data_ms:6.2f}",
        f"  strips, cold (empty LRU cache)    {r.strips_cold_ms:6.2f}",
        f"  cold frame, total                 {r.frame_cold_ms:6.2f}    ≤ {FRAME_GOAL_MS:.0f}   "
        f"{_verdict(r.frame_cold_ms <= FRAME_GOAL_MS)}",
        f"  strips, warm (from LRU cache)     {r.strips_warm_ms:6.2f}",
        "",
        f"key-to-idle, headless Pilot at {SIZE[0]}x{SIZE[1]} (median); ratios against the empty app",
        f"  {'key':<22}{'viewer':>10}{'empty app':>12}{'ratio':>8}  {'goal':<14}"
        f"{'one-repaint app':>17}{f'same, {r.widgets} widgets':>21}{'CPU/key viewer':>17}{'empty':>9}",
    ]
    for k in r.keys:
        floor = f"{k.floor_wall_ms:.1f} ms {k.floor_wall_ms / k.empty_wall_ms:.2f}x"
        matched = f"{k.matched_wall_ms:.1f} ms {k.matched_wall_ms / k.empty_wall_ms:.2f}x"
        lines.append(
            f"  {k.name:<22}{k.wall_ms:7.1f} ms{k.empty_wall_ms:9.1f} ms{k.ratio:7.2f}x  "
            f"{'≤ ' + str(KEY_GOAL_RATIO) + 'x ' + _verdict(k.ratio <= KEY_GOAL_RATIO):<14}{floor:>17}"
            f"{matched:>21}{k.cpu_ms:14.2f} ms{k.empty_cpu_ms:6.2f} ms")
    lines += [
        "  Pilot's idle test sleeps in 20 ms steps and any repaint costs one more step; after the steps it",
        "  sends a message round trip through every widget of the screen.  The one-repaint app (one",
        "  character redrawn per key) is the floor an app that shows a key press can reach; padded with idle",
        f"  widgets to the viewer's {r.widgets}, it is the floor for an app of the viewer's size.",
        "",
        f"response map, {r.layer_channels}-channel layer (median)",
        f"  load the layer (worker)           {1000 * r.layer_load_s:6.0f} ms",
        f"  rank its neurons, {r.rank_group:,}-sample group (worker) {r.rank_ms:6.1f} ms",
        f"  cold frame, {SIZE[0]}x{SIZE[1]}               {r.response_cold_ms:6.2f} ms   "
        f"{r.response_cold_ms / r.frame_cold_ms:.2f}x the matrix's cold frame   "
        f"goal ≤ {FRAME_GOAL_MS:.0f} ms {_verdict(r.response_cold_ms <= FRAME_GOAL_MS)}",
        f"  warm frame (from LRU cache)       {r.response_warm_ms:6.2f} ms",
        "",
        "sample pane fill, until idle (median, thumbnails decoded cold)",
        f"  {r.pane_samples:,}-sample selection          {r.pane_big_ms:6.1f} ms",
        f"  1-sample selection                {r.pane_small_ms:6.1f} ms   "
        f"ratio {r.pane_big_ms / r.pane_small_ms:.2f}x",
        "",
        f"process start to first frame (pty, median of {len(r.first_frame_s)}): {first:.2f} s    "
        f"goal ≤ {FIRST_FRAME_GOAL_S} s   {_verdict(first <= FIRST_FRAME_GOAL_S)}   "
        f"(runs: {', '.join(f'{s:.2f}' for s in r.first_frame_s)} s)",
    ]
    if r.pictures:
        lines += ["", *format_pictures(r.pictures)]
    return "\n".join(lines)
