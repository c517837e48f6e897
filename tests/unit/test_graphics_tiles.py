"""Pixel-graphics tiles: sized from the cell size, the thumbnail enlarged by a whole factor, never cropped."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.tui.kitty_graphics import KittyPlacements
from blocks_tui.tui.widgets.thumbnail import graphics_picture, graphics_tile


@pytest.mark.parametrize("cell, tile", [
    ((10, 20), (12, 5)),  # xterm at 1600x1000 for 160x50: 96 px, 2x
    ((8, 19), (12, 6)),  # kitty at font size 10: 96 px, 2x
    ((7, 15), (14, 7)),  # a smaller font: 96 px over 14 columns
    ((4, 8), (12, 6)),  # tiny cells: 48 px at 1x fits 12 x 6 cells, 2x would not
    ((30, 60), (13, 7)),  # huge cells: 8x, 384 px
    ((2, 4), (16, 7)),  # cells too small for even 1x: the largest tile, and the picture shrinks into it
])
def test_a_tile_fits_a_whole_factor_of_the_thumbnail(cell: tuple[int, int], tile: tuple[int, int]) -> None:
    assert graphics_tile(cell) == tile


def test_the_picture_is_the_thumbnail_enlarged_by_a_whole_factor_and_centred() -> None:
    rng = np.random.default_rng(0)
    thumb = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    picture = np.asarray(graphics_picture(thumb, 12, 5, (10, 20), (18, 18, 18)))
    assert picture.shape == (100, 120, 3)  # exactly the tile in pixels: the terminal neither stretches nor crops
    inner = picture[2:98, 12:108]  # 96 px, centred
    assert np.array_equal(inner, np.repeat(np.repeat(thumb, 2, axis=0), 2, axis=1))  # nearest, 2x: sharp
    assert (picture[:2] == 18).all() and (picture[:, :12] == 18).all()  # the pane's background around it
    small = np.asarray(graphics_picture(thumb, 16, 7, (2, 4), (18, 18, 18)))
    assert small.shape == (28, 32, 3) and (small[:, :2] == 18).all()  # shrunk whole: 28 x 28, centred


def test_kitty_pictures_are_sent_once_and_moved_by_placement() -> None:
    from PIL import Image

    kitty = KittyPlacements()
    picture = Image.new("RGB", (8, 8), (255, 0, 0))
    first = kitty.show(0, sample=7, picture=picture, columns=12, rows=5, x=3, y=4)
    assert "a=t,f=100" in first and "\x1b[5;4H" in first and "a=p," in first and "C=1" in first
    assert kitty.show(0, 7, picture, 12, 5, 3, 4) == ""  # already there: nothing to write
    moved = kitty.show(0, 7, picture, 12, 5, 33, 4)
    assert "a=t" not in moved and "\x1b[5;34H" in moved  # placed again, not sent again
    other = kitty.show(0, 9, picture, 12, 5, 33, 4)
    assert "d=i" in other and "a=t" in other  # the slot's old picture taken off, the new one sent
    assert "d=i" in kitty.hide_all() and kitty.hide_all() == ""
    assert kitty.free_all().count("d=I") == 2  # quitting frees both pictures sent
