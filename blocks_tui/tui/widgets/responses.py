"""The response map (paper Fig. 3a): classes down, neurons across, each neuron's d×d cells side by side.

Drawn like the matrix: two row bins per terminal line in half blocks, the
hierarchy gutter on the left, strips cached per frame.  Above the rows, a
title line and a strip coloured by each neuron's relevance to the selected
group (neurons are sorted by it, most relevant on the left).  Cells come
as ranks among their neuron's cells: below the threshold T they run from
black to light blue, at or above T they are yellow, as in the paper.  Like
the matrix, keys only *ask* (messages); the app owns the state and answers
with a new drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...analysis.view_frame import CURSOR, EMPTY, LEVEL0, scale_levels
from ...safe_text import escaped
from ..bindings import RESPONSE_KEYS, bindings
from ..palette import FrameRuns, Palette, palette_for, response_palette

HEADER_LINES = 2  # the title and the relevance strip


@dataclass(frozen=True)
class ResponseDrawing:
    """What the app hands the widget: level codes per (row bin, cell column), the gutter, the header."""

    levels: np.ndarray  # (bins, visible · d·d) int, 0..n (n = at or above T)
    gutter: np.ndarray  # (bins, gutter levels) uint8 codes, as the matrix's
    magnify: int  # half rows per bin
    d: int
    relevance: np.ndarray  # (visible,) float, nan if unranked
    title: Text


class ResponseMap(ScrollView, can_focus=True):
    """Draws a :class:`ResponseDrawing` and a cursor (row bin, visible neuron)."""

    BINDINGS = bindings(RESPONSE_KEYS)

    class CursorRequested(Message):
        """Move by ``rows`` row bins and ``neurons`` neurons (``to`` = 0 / -1 jumps to the first / last)."""

        def __init__(self, rows: int, neurons: int, to: int | None = None) -> None:
            super().__init__()
            self.rows, self.neurons, self.to = rows, neurons, to

    class ZoomIn(Message):
        """Enter: zoom into the block holding the cursor's row."""

    class ViewportChanged(Message):
        def __init__(self, width: int, height: int) -> None:
            super().__init__()
            self.width, self.height = width, height

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.drawing: ResponseDrawing | None = None
        self.message = Text("")
        self.cursor = (0, 0)  # (row bin, visible neuron)
        self.palette: Palette = response_palette("truecolor")
        self.header_palette: Palette = palette_for("truecolor")
        self._pairs = np.zeros((0, 0), dtype=np.int32)
        self._generation = 0
        self._strips: LRUCache[tuple[int, int, int, int], Strip] = LRUCache(512)
        self._runs: FrameRuns | None = None  # the frame's colour runs, found once for every line

    def on_mount(self) -> None:
        self.palette = response_palette(self.app.console.color_system)
        self.header_palette = palette_for(self.app.console.color_system)
        self._runs = None

    def on_resize(self) -> None:
        self.virtual_size = self.size
        self.post_message(self.ViewportChanged(self.size.width, self.size.height))

    @property
    def rows_height(self) -> int:
        """Terminal lines left for the rows under the header."""
        return max(1, self.size.height - HEADER_LINES)

    def cells_width(self, gutter_levels: int) -> int:
        return max(1, self.size.width - (gutter_levels + 1 if gutter_levels else 0))

    # -- state from the app ----------------------------------------------------------
    def show(self, drawing: ResponseDrawing, cursor: tuple[int, int]) -> None:
        """Draw a new frame; ``cursor`` is (row bin, visible neuron)."""
        m = drawing.magnify
        codes = np.where(drawing.levels >= 0, LEVEL0 + drawing.levels, EMPTY).astype(np.int32)
        body = np.repeat(codes, m, axis=0)
        if drawing.gutter.shape[1]:
            gutter = np.repeat(drawing.gutter.astype(np.int32), m, axis=0)
            body = np.concatenate([gutter, np.full((body.shape[0], 1), EMPTY, np.int32), body], axis=1)
        if body.shape[0] % 2:
            body = np.concatenate([body, np.full((1, body.shape[1]), EMPTY, np.int32)])
        self._pairs = body[0::2] * self.palette.size + body[1::2]
        self.drawing = drawing
        self.cursor = cursor
        self._generation += 1
        self._strips.clear()
        self._runs = None
        self.refresh()

    def show_message(self, message: Text | str) -> None:
        """No layer to draw (loading, or the cache has none): say so in place of the map."""
        self.drawing = None
        self.message = escaped(message if isinstance(message, Text) else Text(message))
        self._generation += 1
        self._strips.clear()
        self.refresh()

    # -- actions -------------------------------------------------------------------
    def action_cursor(self, rows: int, neurons: int) -> None:
        self.post_message(self.CursorRequested(rows, neurons))

    def action_first(self) -> None:
        self.post_message(self.CursorRequested(0, 0, to=0))

    def action_last(self) -> None:
        self.post_message(self.CursorRequested(0, 0, to=-1))

    def action_zoom_in(self) -> None:
        self.post_message(self.ZoomIn())

    # -- drawing ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        key = (self._generation, y, self.cursor[0], self.cursor[1])
        strip = self._strips.get(key)
        if strip is None:
            strip = self._build_line(y, width)
            self._strips[key] = strip
        return strip

    def _gutter_width(self) -> int:
        levels = self.drawing.gutter.shape[1] if self.drawing else 0
        return levels + 1 if levels else 0

    def _build_line(self, y: int, width: int) -> Strip:
        d = self.drawing
        if d is None:
            return self._text_line(self.message if y == 0 else Text(""), width)
        if y == 0:
            return self._text_line(escaped(d.title), width)  # a layer's name comes from the data
        if y == 1:
            return self._relevance_strip(width)
        row = y - HEADER_LINES
        if row >= self._pairs.shape[0]:
            return Strip([Segment(" " * width, self.palette.styles[0])], width)
        if not any(self._cursor_halves(row)):
            self._runs = self.palette.runs_for(self._runs, self._pairs, width)
            return self._runs.strip(row)
        pairs = self._pairs[row].copy()
        self._overlay_cursor(pairs, row)
        return self.palette.strip(pairs, width)

    def _text_line(self, text: Text, width: int) -> Strip:
        """``text`` on the widget's own style (its #121212 background), cut or padded to ``width``.
        Every segment gets a style: Textual's NO_COLOR filter fails on a segment without one."""
        base = self.rich_style
        return Strip(Segment.apply_style(text.render(self.app.console), base)).crop_extend(0, width, base)

    def _cursor_halves(self, line: int) -> tuple[bool, bool]:
        """Whether the cursor row covers the upper and the lower half of terminal line ``line``."""
        if self.drawing is None:
            return False, False
        m = self.drawing.magnify
        half_rows = range(self.cursor[0] * m, self.cursor[0] * m + m)
        return 2 * line in half_rows, 2 * line + 1 in half_rows

    def _overlay_cursor(self, pairs: np.ndarray, line: int) -> None:
        """The cursor: the neuron's d·d columns on the cursor row's half rows, in cyan."""
        assert self.drawing is not None
        upper_on, lower_on = self._cursor_halves(line)
        if not (upper_on or lower_on):
            return
        size, cells = self.palette.size, self.drawing.d ** 2
        x0 = self._gutter_width() + self.cursor[1] * cells
        upper, lower = divmod(pairs[x0 : x0 + cells], size)
        if upper_on:
            upper[:] = CURSOR
        if lower_on:
            lower[:] = CURSOR
        pairs[x0 : x0 + cells] = upper * size + lower

    def _relevance_strip(self, width: int) -> Strip:
        """One cell run per neuron, coloured by its relevance (log scale); the cursor's neuron marked."""
        assert self.drawing is not None
        d = self.drawing
        cells = d.d ** 2
        rel = np.nan_to_num(np.asarray(d.relevance, dtype=np.float64), nan=0.0)
        levels = scale_levels(np.maximum(rel, 0.0), self.header_palette.n_levels, "log")
        base = self.rich_style
        segments = [Segment(" " * self._gutter_width(), base)]
        colors = self.header_palette.colors
        for i, level in enumerate(levels.tolist()):
            if i == self.cursor[1]:
                segments.append(Segment("▼" * cells, Style(color="black", bgcolor=colors[CURSOR], bold=True)))
            else:
                bg = colors[LEVEL0 + level] if level >= 0 else colors[EMPTY]
                segments.append(Segment(" " * cells, Style(bgcolor=bg)))
        return Strip(segments).crop_extend(0, width, base)
