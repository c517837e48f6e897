"""Half-cell thumbnails as cached strips: the sample pane's default picture.

textual-image draws half cells too, but through a Rich renderable that is
re-rendered (resized and turned into segments pixel by pixel) on every
repaint of its widget: about 2 ms per 12x6 thumbnail, and a cursor move
repaints six of them, which made a key press in the viewer three times
slower than an empty app's.  Here a thumbnail becomes six :class:`Strip`
objects once, in about 0.2 ms (a PIL resize and one segment per colour
run), and the sample grid draws every repaint from them
(:class:`~blocks_tui.tui.widgets.samples.ThumbGrid`).  Kitty graphics,
Sixel and unicode still go through textual-image (see
:mod:`blocks_tui.tui.images`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ..palette import UPPER_HALF


def halfcell_strips(pixels: np.ndarray, width: int, height: int) -> list[Strip]:
    """``height`` lines of ``width`` cells showing an (H, W, 3) uint8 image, two pixel rows per cell."""
    image = PILImage.fromarray(np.ascontiguousarray(pixels[..., :3])).resize((width, 2 * height),
                                                                                PILImage.Resampling.BOX)
    rgb = np.asarray(image, dtype=np.uint8)
    lines = []
    for y in range(height):
        top, bottom = rgb[2 * y], rgb[2 * y + 1]
        segments = []
        for x in range(width):
            upper = Color.from_rgb(*top[x].tolist())
            lower = Color.from_rgb(*bottom[x].tolist())
            segments.append(Segment(UPPER_HALF, Style(color=upper, bgcolor=lower)))
        lines.append(Strip(Segment.simplify(segments), width))
    return lines


HALFCELL_TILE = (12, 6)  # cells of a character-drawn thumbnail; 12 columns also fit a caption
MAX_TILE = (16, 7)  # the largest graphics tile, in cells: about a half-cell tile's height


def graphics_tile(cell: tuple[int, int], side: int = 48) -> tuple[int, int]:
    """(columns, rows) of a tile that shows a ``side``-pixel thumbnail in pixel graphics.

    The thumbnail is enlarged by the largest whole factor that still fits
    :data:`MAX_TILE` on a terminal whose cells are ``cell`` pixels, so
    pixels stay square and sharp (no smearing from a fractional resize) and
    the whole picture shows (no cropping), at any font size.  A tile is at
    least 12 columns wide, for its caption.
    """
    width, height = max(1, cell[0]), max(1, cell[1])
    scale = 1
    while -(-side * (scale + 1) // width) <= MAX_TILE[0] and -(-side * (scale + 1) // height) <= MAX_TILE[1]:
        scale += 1
    columns = max(HALFCELL_TILE[0], min(MAX_TILE[0], -(-side * scale // width)))
    rows = max(2, min(MAX_TILE[1], -(-side * scale // height)))
    return columns, rows


def graphics_picture(pixels: np.ndarray, columns: int, rows: int, cell: tuple[int, int],
                     background: tuple[int, int, int]) -> PILImage.Image:
    """An (H, W, 3) thumbnail as a picture exactly ``columns`` × ``rows`` cells in pixels: enlarged by a
    whole factor (nearest neighbour), shrunk smoothly only when even 1× does not fit, and centred on
    ``background``, so the terminal neither stretches nor crops it."""
    box_w, box_h = columns * cell[0], rows * cell[1]
    image = PILImage.fromarray(np.ascontiguousarray(pixels[..., :3]))
    scale = min(box_w / image.width, box_h / image.height)
    if scale >= 1:
        whole = int(scale)
        image = image.resize((image.width * whole, image.height * whole), PILImage.Resampling.NEAREST)
    else:
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))),
                             PILImage.Resampling.LANCZOS)
    canvas = PILImage.new("RGB", (box_w, box_h), background)
    canvas.paste(image, ((box_w - image.width) // 2, (box_h - image.height) // 2))
    return canvas
