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
