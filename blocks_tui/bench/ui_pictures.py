"""``bench ui``'s pictures: how fast a new page of thumbnails reaches a real terminal, and how big it is.

The viewer runs in a pseudo-terminal (:class:`~blocks_tui.pty_session.PtySession`)
in each picture mode, with the tree's root selected (its true positives:
one tile per class, far more than fit) and the sample pane focused.  Then
``G`` and ``g`` take turns: each moves the pane's cursor to the last or
first thumbnail, so the whole page of tiles changes.  For every press the
time from writing the key to the last byte the viewer writes in answer is
taken (the answer is over once the output has rested for
:data:`QUIET` s), with the bytes written and the pictures among them.
Kitty graphics send each picture once and afterwards only place it, so
they are reported both ways: the first page of new pictures, and pages
the terminal has seen.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..pty_session import SIXEL_IMAGE, PtySession

QUIET = 0.15  # seconds without output that end a key's answer
PICTURE_GOAL_MS = 50.0
MODES = ("sixel", "tgp", "halfcell")
SIZE = (120, 40)
CELL = (10, 20)


@dataclass
class PictureTiming:
    """One picture mode: per key press, the latency to the last byte and what was written."""

    mode: str
    tiles: int = 0  # tiles in the pane
    latency_ms: list[float] = field(default_factory=list)
    bytes_written: list[int] = field(default_factory=list)
    pictures: list[int] = field(default_factory=list)  # Sixel images or Kitty placements in each answer
    first_page_ms: float = 0.0  # the first G: every picture new to the terminal
    first_page_bytes: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latency_ms) if self.latency_ms else float("nan")

    @property
    def bytes_per_picture(self) -> float:
        """Bytes per Sixel image or Kitty placement; for half cells, whose pictures are text among the
        rest of the repaint, bytes per key press."""
        pictures = sum(self.pictures) or len(self.bytes_written)
        return sum(self.bytes_written) / pictures if pictures else float("nan")


def _pictures(data: bytes, mode: str) -> int:
    if mode == "sixel":
        return len(SIXEL_IMAGE.findall(data))
    if mode == "tgp":
        return data.count(b"a=p,")
    return 0


def picture_times(cache: Path, presses: int = 10, modes: tuple[str, ...] = MODES) -> list[PictureTiming]:
    """For each of ``modes``: ``presses`` page changes of the sample pane, timed to the last byte."""
    results = []
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "COLORTERM": "truecolor", "HOME": str(cache.parent)}
    for mode in modes:
        timing = PictureTiming(mode)
        argv = [sys.executable, "-m", "blocks_tui", "view", str(cache), "--images", mode]
        with PtySession(argv, size=SIZE, cell=CELL, env=env) as session:
            if not session.wait_for(b"Blocks", timeout=120):
                raise RuntimeError(f"the viewer did not start for --images {mode}")
            # The tree; down and up again selects its root (every class's true positives); then the pane.
            session.wait_quiet(1.0)
            for key in ("W", "j", "k", "w", "w"):
                session.press(key, quiet=0.4)
            for n in range(presses + 1):
                key = "G" if n % 2 == 0 else "g"
                sent, last, data = session.press(key, quiet=QUIET)
                if not data:
                    raise RuntimeError(f"--images {mode}: the sample pane did not answer {key}")
                if n == 0:  # every picture is new to the terminal
                    timing.first_page_ms = 1000 * (last - sent)
                    timing.first_page_bytes = len(data)
                    continue
                timing.latency_ms.append(1000 * max(0.0, last - sent))
                timing.bytes_written.append(len(data))
                timing.pictures.append(_pictures(data, mode))
            timing.tiles = max(timing.pictures, default=0) or 0
            session.send("q")
            session.close(timeout=20)
        results.append(timing)
    return results


def format_pictures(timings: list[PictureTiming]) -> list[str]:
    """The report's lines for :func:`picture_times`."""
    lines = [f"new page of thumbnails in a pty at {SIZE[0]}x{SIZE[1]}, {CELL[0]}x{CELL[1]} px cells "
             f"(G/g in the sample pane; median; key to last byte written)",
             f"  {'mode':<10}{'tiles':>6}{'latency':>11}  {'goal':<14}{'bytes/picture':>15}"
             f"{'first page (all pictures new)':>34}"]
    for t in timings:
        tiles = str(t.tiles) if t.mode != "halfcell" else "-"
        lines.append(f"  {t.mode:<10}{tiles:>6}{t.median_ms:8.1f} ms  "
                     f"{'≤ 50 ms ' + ('ok' if t.median_ms <= PICTURE_GOAL_MS else 'MISSED'):<14}"
                     f"{t.bytes_per_picture:12,.0f} B{t.first_page_ms:16.1f} ms, {t.first_page_bytes:,} B")
    lines.append("  halfcell: bytes per key press (the tiles are text).  tgp: pictures already sent are only "
                 "placed again.")
    return lines
