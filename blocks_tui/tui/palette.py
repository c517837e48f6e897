"""Colours of the matrix codes, for truecolor, 256-colour and 16-colour terminals.

Every non-scale colour is an exact xterm-256 colour, so it looks the same
either way.  The count scale is a 32-step inferno ramp in truecolor; in 256
colours it is a hand-picked 14-step ramp through the xterm cube in which
every step raises one channel, so it stays monotone in lightness instead of
whatever rich's per-channel rounding would make of the smooth ramp.  Styles
for every (upper, lower) pair of codes are built once and reused, which is
what keeps a frame of half blocks in the low milliseconds.

A 16-colour terminal (``TERM=xterm``, ``vt340``, a bare console) gets its
own table, made of the 16 standard colours themselves: there every dark
tone of the other tables rounds to black and every bright one to red,
magenta or yellow, so the scale kept three steps and the block shading
and bands vanished.  Here the background is black, a child block bright
black (grey), the bands blue, green and cyan, and the count scale six
colours the bands never use, from magenta to bright white.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ..analysis.view_frame import BLOCK, CURSOR, EMPTY, FN_BAND, FP_BAND, GUTTER, LEVEL0, NODE_BLOCK

UPPER_HALF = "▀"

FIXED: dict[int, str] = {
    EMPTY: "#121212",  # xterm 233: the matrix background; a count of 0 shows as nothing
    BLOCK: "#262626",  # 235: inside a diagonal child block
    FN_BAND: "#00005f",  # 17: the highlighted node's rows (false negatives), blue
    FP_BAND: "#005f00",  # 22: its columns (false positives), green
    NODE_BLOCK: "#005f5f",  # 23: their intersection, teal
    CURSOR: "#00ffff",  # 51
    GUTTER + 0: "#5f87af", GUTTER + 1: "#87afd7",  # 67/110: first gutter level, two shades
    GUTTER + 2: "#5f875f", GUTTER + 3: "#87af87",  # 65/108
    GUTTER + 4: "#875f87", GUTTER + 5: "#af87af",  # 96/139
}

_INFERNO = ["#420a68", "#6a176e", "#932667", "#bc3754", "#dd513a", "#f37819", "#fca50a", "#f6d746", "#fcffa4"]
"""matplotlib's inferno at 0.2, 0.3, ..., 1.0: its darkest fifth would vanish into the background."""

SCALE_256 = ["#5f005f", "#87005f", "#af005f", "#d7005f", "#ff005f", "#ff5f5f", "#ff875f",
             "#ffaf5f", "#ffd75f", "#ffff5f", "#ffff87", "#ffffaf", "#ffffd7", "#ffffff"]
"""xterm 53, 89, 125, 161, 197, 203, 209, 215, 221, 227, 228, 229, 230, 231."""


STANDARD = ["#000000", "#aa0000", "#00aa00", "#aa5500", "#0000aa", "#aa00aa", "#00aaaa", "#aaaaaa",
            "#555555", "#ff5555", "#55ff55", "#ffff55", "#5555ff", "#ff55ff", "#55ffff", "#ffffff"]
"""The 16 standard colours as rich rounds to them: each of these stays exactly itself."""

FIXED_16: dict[int, str] = {
    EMPTY: STANDARD[0], BLOCK: STANDARD[8], FN_BAND: STANDARD[4], FP_BAND: STANDARD[2],
    NODE_BLOCK: STANDARD[6], CURSOR: STANDARD[14],
    GUTTER + 0: STANDARD[4], GUTTER + 1: STANDARD[12], GUTTER + 2: STANDARD[2], GUTTER + 3: STANDARD[10],
    GUTTER + 4: STANDARD[5], GUTTER + 5: STANDARD[13],
}
SCALE_16 = [STANDARD[i] for i in (5, 1, 9, 3, 11, 15)]
"""magenta, red, bright red, yellow (brown), bright yellow, bright white: none is a band's colour."""
_RESPONSE_STEPS_16 = [STANDARD[i] for i in (0, 4, 12, 6, 14, 7, 15)]
RESPONSE_16 = [_RESPONSE_STEPS_16[k * len(_RESPONSE_STEPS_16) // 16] for k in range(16)] + [STANDARD[11]]
"""The response map in 16 colours: its 16 steps below the threshold in black, blues, cyans and whites (seven
colours, in order), bright yellow at or above it."""

SIXTEEN = ("standard", "windows")  # rich's names for 16-colour terminals


def _ramp(anchors: list[str], steps: int) -> list[str]:
    rgb = [tuple(int(a[i : i + 2], 16) for i in (1, 3, 5)) for a in anchors]
    out = []
    for k in range(steps):
        t = k / (steps - 1) * (len(rgb) - 1)
        i = min(int(t), len(rgb) - 2)
        f = t - i
        out.append("#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(rgb[i], rgb[i + 1])))
    return out


SCALE_TRUECOLOR = _ramp(_INFERNO, 32)


class Palette:
    """Colours by code, and the character and style of every (upper, lower) code pair, built once."""

    def __init__(self, scale: list[str], fixed: dict[int, str] = FIXED) -> None:
        self.scale = scale
        self.hexes = [fixed.get(code, fixed[EMPTY]) for code in range(LEVEL0)] + scale
        self.colors = [Color.parse(h) for h in self.hexes]
        self.size = len(self.hexes)
        # Indexed by upper * size + lower.  Equal halves print a space on that background: the
        # same picture in fewer bytes, and no hairline where a font's ▀ falls short.
        self.chars: list[str] = []
        self.styles: list[Style] = []
        backgrounds = [Style(bgcolor=c) for c in self.colors]
        for upper, top in enumerate(self.colors):
            for lower, bottom in enumerate(self.colors):
                same = upper == lower
                self.chars.append(" " if same else UPPER_HALF)
                self.styles.append(backgrounds[lower] if same else Style(color=top, bgcolor=bottom))
        self._segments = _Segments(self.chars, self.styles)

    @property
    def n_levels(self) -> int:
        return len(self.scale)

    def cell(self, pair: int) -> tuple[str, Style]:
        """Character and style of the code pair ``upper * size + lower``."""
        return self.chars[pair], self.styles[pair]

    def strip(self, pairs: np.ndarray, width: int) -> Strip:
        """One terminal line of code pairs, cut or padded with the background to ``width``.

        Equal neighbours merge into one segment, so a line costs a segment per
        colour run rather than per cell: what keeps a frame in milliseconds.
        """
        return self.runs(pairs[None, :], width).strip(0)

    def runs(self, pairs: np.ndarray, width: int) -> "FrameRuns":
        """The colour runs of every line of ``pairs`` (lines × columns of code pairs), found in one pass.

        A busy response map has a hundred runs a line; finding them line by line
        cost more in numpy calls than the runs themselves.
        """
        return FrameRuns(pairs, width, EMPTY * self.size + EMPTY, self._segments)

    def runs_for(self, runs: "FrameRuns | None", pairs: np.ndarray, width: int) -> "FrameRuns":
        """``runs`` if they were found at ``width``, else the runs of ``pairs`` found now: what a widget keeps
        for its frame (it drops them, to None, when the frame changes)."""
        return runs if runs is not None and runs.width == width else self.runs(pairs, width)


class _Segments(dict[int, Segment]):
    """Segments by ``pair * MAX_RUN + length``, each made on first use and then shared.

    The same few hundred (colour pair, length) runs recur in every frame, so a
    line is a list of dictionary hits instead of a Segment and a string built
    per run.  Cleared when it grows past :data:`MAX_SEGMENTS`.
    """

    def __init__(self, chars: list[str], styles: list[Style]) -> None:
        super().__init__()
        self.chars, self.styles = chars, styles

    def __missing__(self, key: int) -> Segment:
        if len(self) >= MAX_SEGMENTS:
            self.clear()
        pair, length = divmod(key, MAX_RUN)
        segment = self[key] = Segment(self.chars[pair] * length, self.styles[pair])
        return segment


MAX_RUN = 1 << 16
"""Longest run a segment key holds: wider than any terminal."""
MAX_SEGMENTS = 50_000


class FrameRuns:
    """Every line's colour runs as (pair, length) keys, and the strip of a line built from them on demand."""

    def __init__(self, pairs: np.ndarray, width: int, background: int, segments: _Segments) -> None:
        if width >= MAX_RUN:
            raise ValueError(f"a line of {width} cells is wider than any terminal")
        rows = pairs[:, :width]
        if width > rows.shape[1]:  # pad with background, so a trailing empty run merges with it
            pad = np.full((rows.shape[0], width - rows.shape[1]), background, rows.dtype)
            rows = np.concatenate([rows, pad], axis=1)
        starts = np.ones(rows.shape, dtype=bool)
        np.not_equal(rows[:, 1:], rows[:, :-1], out=starts[:, 1:])
        flat = np.flatnonzero(starts)
        lengths = np.diff(flat, append=rows.size)  # a line's first cell starts a run, so none spans two lines
        keys = rows.ravel()[flat].astype(np.int64) * MAX_RUN + lengths
        self.width = width
        self._keys: list[int] = keys.tolist()
        self._offsets: list[int] = np.searchsorted(flat, np.arange(rows.shape[0] + 1) * width).tolist()
        self._segments = segments

    def strip(self, line: int) -> Strip:
        """The terminal line ``line``: one shared segment per run."""
        keys = self._keys[self._offsets[line] : self._offsets[line + 1]]
        return Strip(list(map(self._segments.__getitem__, keys)), self.width)


def palette_for(color_system: str | None) -> Palette:
    """The truecolor ramp where the terminal has it, the 16-colour table on 16-colour terminals, else the
    256-colour ramp."""
    if color_system in SIXTEEN:
        return Palette(SCALE_16, FIXED_16)
    return Palette(SCALE_TRUECOLOR if color_system == "truecolor" else SCALE_256)


RESPONSE_TRUECOLOR = _ramp(["#000000", "#1c3d5a", "#87d7ff"], 16) + ["#ffd700"]
RESPONSE_256 = ["#000000", "#00005f", "#000087", "#005f87", "#005faf", "#0087af", "#0087d7", "#00afd7",
                "#00afff", "#5fafd7", "#5fafff", "#5fd7ff", "#87d7ff", "#afd7ff", "#afffff", "#d7ffff",
                "#ffd700"]
"""The response map: 16 steps from black to light blue below the threshold, then yellow (xterm 220) at or
above it, as in the paper.  The 256-colour steps are xterm cube colours, each lighter than the last."""


def response_palette(color_system: str | None) -> Palette:
    """The response map's colours: the blue ramp and yellow, in truecolor, 256 or 16 colours."""
    if color_system in SIXTEEN:
        return Palette(RESPONSE_16, FIXED_16)
    return Palette(RESPONSE_TRUECOLOR if color_system == "truecolor" else RESPONSE_256)
