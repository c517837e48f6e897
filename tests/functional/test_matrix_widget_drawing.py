"""How the matrix widget draws a frame, cell by cell, and its colour scales in every colour system."""

from __future__ import annotations

import asyncio
import colorsys
from typing import Callable

import numpy as np
import pytest
from rich.color import Color, ColorSystem
from textual.app import App, ComposeResult

from blocks_tui.analysis import Pyramid
from blocks_tui.analysis.view_frame import (
    BLOCK,
    CURSOR,
    EMPTY,
    LEVEL0,
    matrix_frame,
)
from blocks_tui.tui.palette import FIXED, SCALE_256, SCALE_TRUECOLOR, palette_for
from blocks_tui.tui.widgets.matrix import ConfusionMatrix

# A known 4x4 matrix: two 2-class blocks, one off-block cell (row 3 → column 0).
KNOWN = np.array([[0, 5, 0, 0],
                  [1, 0, 0, 0],
                  [0, 0, 0, 2],
                  [9, 0, 4, 0]])


class _Matrix(App[None]):
    CSS = "ConfusionMatrix { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield ConfusionMatrix(id="matrix")


def with_matrix(size: tuple[int, int], check: Callable[[ConfusionMatrix], None]) -> None:
    """Mount a lone matrix widget at ``size`` and run ``check`` on it."""

    async def run() -> None:
        app = _Matrix()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            check(app.query_one(ConfusionMatrix))

    asyncio.run(run())


def _cells(strip) -> list[tuple[str, Color | None, Color | None]]:  # noqa: ANN001 - a Strip
    """(character, foreground, background) of every cell of a strip."""
    out = []
    for segment in strip:
        for ch in segment.text:
            out.append((ch, segment.style.color, segment.style.bgcolor))
    return out


def test_render_known_matrix_half_blocks_cell_by_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each terminal cell shows two matrix rows: ▀ in the upper row's colour on the lower row's."""
    monkeypatch.setenv("COLORTERM", "truecolor")

    def check(widget: ConfusionMatrix) -> None:
        frame = matrix_frame(Pyramid(KNOWN), 0, 4, 4, blocks=[(0, 2), (2, 4)], n_levels=len(SCALE_TRUECOLOR))
        widget.show_frame(frame, (3, 3))
        colour = lambda code: Color.parse(widget.palette.hexes[code])  # noqa: E731
        lines = [_cells(widget.render_line(y)) for y in range(3)]
        codes = frame.codes.copy()
        codes[3, 3] = CURSOR
        for y in range(2):
            for x in range(4):
                upper, lower = codes[2 * y, x], codes[2 * y + 1, x]
                ch, fg, bg = lines[y][x]
                if upper == lower:
                    assert (ch, bg) == (" ", colour(lower))
                else:
                    assert (ch, fg, bg) == ("▀", colour(upper), colour(lower)), (y, x)
        # Known cells by name: row 0 col 1 (5 of max 9) above row 1 col 1 (empty, in a block).
        assert lines[0][1] == ("▀", colour(LEVEL0 + int(np.ceil(32 * 5 / 9)) - 1), colour(BLOCK))
        assert lines[1][0] == ("▀", colour(EMPTY), colour(LEVEL0 + 31))  # 9 is the top of the scale
        assert lines[1][3] == ("▀", colour(LEVEL0 + int(np.ceil(32 * 2 / 9)) - 1), colour(CURSOR))
        assert all(cell == (" ", None, colour(EMPTY)) for cell in lines[2])  # below the matrix
        assert len(lines[0]) == 20  # padded to the widget's width

    with_matrix((20, 6), check)


def test_render_merges_equal_cells_into_one_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")

    def check(widget: ConfusionMatrix) -> None:
        frame = matrix_frame(Pyramid(np.zeros((4, 4), dtype=int)), 0, 4, 4, magnify=5)
        widget.show_frame(frame, (0, 0))
        strip = widget.render_line(5)  # below the cursor: one empty run across the widget
        assert len(list(strip)) == 1 and strip.cell_length == 40

    with_matrix((40, 10), check)


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scale", [SCALE_TRUECOLOR, SCALE_256])
def test_scales_rise_in_lightness_and_stand_out_from_the_background(scale: list[str]) -> None:
    lum = [_luminance(h) for h in scale]
    assert all(b >= a for a, b in zip(lum, lum[1:]))
    assert lum[0] > _luminance(FIXED[EMPTY]) + 0.02
    assert colorsys.rgb_to_hls(*(int(scale[-1][i : i + 2], 16) / 255 for i in (1, 3, 5)))[1] > 0.75


def test_256_colour_palette_survives_the_downgrade_unchanged() -> None:
    """Every colour of the 256-colour palette is an xterm colour, so rich's downgrade keeps it."""
    palette = palette_for("256")
    assert palette.scale == SCALE_256
    downgraded = [c.downgrade(ColorSystem.EIGHT_BIT).get_truecolor().hex for c in palette.colors]
    assert downgraded == palette.hexes
    numbers = [c.downgrade(ColorSystem.EIGHT_BIT).number for c in palette.colors[LEVEL0:]]
    assert len(set(numbers)) == len(SCALE_256)  # every level its own colour
    assert palette_for("truecolor").scale == SCALE_TRUECOLOR and len(SCALE_TRUECOLOR) == 32


def test_widget_picks_the_256_colour_palette_without_colorterm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")

    def check(widget: ConfusionMatrix) -> None:
        assert widget.app.console.color_system == "256"
        assert widget.palette.scale == SCALE_256
        frame = matrix_frame(Pyramid(KNOWN), 0, 4, 4, n_levels=widget.palette.n_levels)
        widget.show_frame(frame, (0, 0))
        colours = {c for cell in _cells(widget.render_line(1)) for c in cell[1:]}
        assert Color.parse(SCALE_256[-1]) in colours  # the 9 in row 3 is the top 256-colour level

    with_matrix((20, 6), check)
