"""Colours of the matrix codes, for truecolor and for 256-colour terminals.

Every non-scale colour is an exact xterm-256 colour, so it looks the same
either way.  The count scale is a 32-step inferno ramp in truecolor; in 256
colours it is a hand-picked 14-step ramp through the xterm cube in which
every step raises one channel, so it stays monotone in lightness instead of
whatever rich's per-channel rounding would make of the smooth ramp.  Styles
for every (upper, lower) pair of codes are built once and reused, which is
what keeps a frame of half blocks in the low milliseconds.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style

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

    def __init__(self, scale: list[str]) -> None:
        self.scale = scale
        self.hexes = [FIXED.get(code, FIXED[EMPTY]) for code in range(LEVEL0)] + scale
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

    @property
    def n_levels(self) -> int:
        return len(self.scale)

    def cell(self, pair: int) -> tuple[str, Style]:
        """Character and style of the code pair ``upper * size + lower``."""
        return self.chars[pair], self.styles[pair]


def palette_for(color_system: str | None) -> Palette:
    """The truecolor ramp where the terminal has it, the 256-colour ramp anywhere else."""
    return Palette(SCALE_TRUECOLOR if color_system == "truecolor" else SCALE_256)
