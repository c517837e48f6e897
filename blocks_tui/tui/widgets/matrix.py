"""The confusion matrix: half-block cells on Textual's Line API.

The widget draws a :class:`~blocks_tui.analysis.view_frame.MatrixFrame`
that the app computed; it never sees samples or counts beyond the frame.
Each terminal line shows two bin rows (``▀``: upper row in the foreground,
lower in the background).  A line is built from the frame's code raster:
equal neighbouring cells merge into one segment, styles come from a
prebuilt table, and the finished :class:`Strip` goes into an LRU cache
keyed by the frame and, for the cursor's lines only, the cursor column.  A
cursor move therefore repaints two or three lines from cache misses and
leaves the rest alone (``refresh_lines``).

Keys only *ask* to move (:class:`CursorRequested`): the app moves the
cursor with :meth:`move_cursor_to` together with the status line and the
selection pane, so the screen repaints once per key, not once per widget.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...analysis.view_frame import CURSOR, EMPTY, MatrixFrame
from ...safe_text import printable
from ...short_names import distinct_shortenings
from ..bindings import MATRIX_KEYS, bindings
from ..palette import FrameRuns, Palette, palette_for


class ConfusionMatrix(ScrollView, can_focus=True):
    """Draws a frame, moves a cell cursor, and asks the app to zoom."""

    BINDINGS = bindings(MATRIX_KEYS)

    class CursorRequested(Message):
        """A key asks for the cursor on this cell (bin coordinates of the current frame, clamped)."""

        def __init__(self, row: int, column: int) -> None:
            super().__init__()
            self.row, self.column = row, column

    class ZoomIn(Message):
        """Enter on a cell: zoom into the diagonal block there, if it is one."""

        def __init__(self, row: int, column: int) -> None:
            super().__init__()
            self.row, self.column = row, column

    class ViewportChanged(Message):
        """The drawing area changed size; the app answers with a new frame."""

        def __init__(self, width: int, height: int) -> None:
            super().__init__()
            self.width, self.height = width, height

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.frame: MatrixFrame | None = None
        self.cursor = (0, 0)
        self.palette: Palette = palette_for("truecolor")
        self._pairs = np.zeros((0, 0), dtype=np.int32)
        self._generation = 0
        self._runs: FrameRuns | None = None  # the frame's colour runs, found once for every line
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self._labels: dict[int, list[tuple[int, str]]] = {}  # text line → (column, class name) written there

    def on_mount(self) -> None:
        self.palette = palette_for(self.app.console.color_system)
        self._runs = None

    def on_resize(self) -> None:
        # The drawing always fits the widget, so the virtual size is the widget's own: changing it
        # per frame would cost a layout pass of the whole screen on every zoom.
        self.virtual_size = self.size
        self.post_message(self.ViewportChanged(self.size.width, self.size.height))

    # -- state from the app ------------------------------------------------------
    def show_frame(self, frame: MatrixFrame, cursor: tuple[int, int], labels: Sequence[str] = ()) -> None:
        """Draw a new frame with the cursor on bin ``cursor``; every line is redrawn.

        ``labels`` name the classes of an unbinned window, in order: where a
        class gets :data:`LABEL_CELLS` columns or more, its name is written on
        its diagonal cell, which labels its row and its column at once.
        """
        raster = frame.raster().astype(np.int32)
        self._pairs = raster[0::2] * self.palette.size + raster[1::2]
        self.frame = frame
        self._labels = self._label_lines(frame, labels)
        self.cursor = self._clamp(cursor)
        self._generation += 1
        self._strips.clear()
        self._runs = None
        self.refresh()

    def move_cursor_to(self, row: int, column: int) -> None:
        """Put the cursor on a bin, repainting only the lines it leaves and enters."""
        new = self._clamp((row, column))
        if new == self.cursor:
            return
        old_lines = self._cursor_lines()
        self.cursor = new
        for y in sorted(old_lines | self._cursor_lines()):
            self.refresh_lines(y)

    def _request(self, row: int, column: int) -> None:
        target = self._clamp((row, column))
        if target != self.cursor:
            self.post_message(self.CursorRequested(*target))

    def _clamp(self, cell: tuple[int, int]) -> tuple[int, int]:
        last = (self.frame.bins - 1) if self.frame else 0
        return min(max(cell[0], 0), last), min(max(cell[1], 0), last)

    # -- actions -----------------------------------------------------------------
    def action_cursor(self, rows: int, columns: int) -> None:
        self._request(self.cursor[0] + rows, self.cursor[1] + columns)

    def action_corner(self, last: int) -> None:
        end = (self.frame.bins - 1) if self.frame and last else 0
        self._request(end, end)

    def action_to_diagonal(self) -> None:
        self._request(self.cursor[0], self.cursor[0])

    def action_zoom_in(self) -> None:
        if self.frame is not None:
            self.post_message(self.ZoomIn(*self.cursor))

    # -- drawing -----------------------------------------------------------------
    def _cursor_lines(self) -> set[int]:
        if self.frame is None:
            return set()
        m = self.frame.magnify
        first, last = self.cursor[0] * m, self.cursor[0] * m + m - 1
        return set(range(first // 2, last // 2 + 1))

    def render_line(self, y: int) -> Strip:
        width = max(self.size.width, self._pairs.shape[1])
        on_cursor = y in self._cursor_lines()
        key = (self._generation, y, self.cursor[1] if on_cursor else -1, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._build_line(y, width, on_cursor)
            self._strips[key] = strip
        return strip

    def _build_line(self, y: int, width: int, on_cursor: bool) -> Strip:
        palette = self.palette
        if y >= self._pairs.shape[0]:
            char, style = palette.cell(EMPTY * palette.size + EMPTY)
            return Strip([Segment(char * width, style)], width)
        if on_cursor:
            strip = palette.strip(self._with_cursor(self._pairs[y].copy(), y), width)
        else:
            self._runs = palette.runs_for(self._runs, self._pairs, width)
            strip = self._runs.strip(y)
        for x, name in self._labels.get(y, ()):
            strip = _write(strip, x, name, width)
        return strip

    @staticmethod
    def _label_lines(frame: MatrixFrame, labels: Sequence[str]) -> dict[int, list[tuple[int, str]]]:
        """Where each class name goes: the first whole text line of its diagonal cell, one column in."""
        m = frame.magnify
        if m < LABEL_CELLS or len(labels) != frame.bins:
            return {}
        lines: dict[int, list[tuple[int, str]]] = {}
        names = distinct_shortenings([printable(name) for name in labels], m - 2)
        for i, name in enumerate(names):
            lines.setdefault((i * m + 1) // 2, []).append((frame.gutter_width + i * m + 1, name))
        return lines

    def _with_cursor(self, row: np.ndarray, y: int) -> np.ndarray:
        """Overlay the cursor's half cells on one line of code pairs."""
        assert self.frame is not None
        m, size = self.frame.magnify, self.palette.size
        x0 = self.frame.gutter_width + self.cursor[1] * m
        rows = range(self.cursor[0] * m, self.cursor[0] * m + m)
        upper, lower = divmod(row[x0 : x0 + m], size)
        if 2 * y in rows:
            upper[:] = CURSOR
        if 2 * y + 1 in rows:
            lower[:] = CURSOR
        row[x0 : x0 + m] = upper * size + lower
        return row


LABEL_CELLS = 6
"""Columns per class from which class names are written on the diagonal (three text lines per class)."""


def _write(strip: Strip, x: int, text: str, width: int) -> Strip:
    """``text`` over ``strip`` from column ``x``, on the colour the cell has there, in black or white."""
    under = strip.crop(x, x + 1)
    segments = list(under)
    style = segments[0].style if segments and segments[0].style else Style()
    back = style.bgcolor or style.color
    rgb = back.get_truecolor() if back is not None else None
    light = rgb is not None and (0.299 * rgb.red + 0.587 * rgb.green + 0.114 * rgb.blue) > 140
    label = Style(color="black" if light else "white", bgcolor=back, bold=True)
    end = min(width, x + cell_len(text))
    return Strip.join([strip.crop(0, x), Strip([Segment(text, label)]).crop(0, end - x), strip.crop(end, width)])
