"""Half-cell thumbnails drawn from cached strips: the sample pane's default picture.

textual-image draws half cells too, but through a Rich renderable that is
re-rendered (resized and turned into segments pixel by pixel) on every
repaint of its widget: about 2 ms per 12x6 thumbnail, and a cursor move
repaints six of them, which made a key press in the viewer three times
slower than an empty app's.  Here a thumbnail becomes six :class:`Strip`
objects once, in about 0.2 ms (a PIL resize and one segment per colour
run), and every repaint reuses them.  Kitty graphics, Sixel and unicode
still go through textual-image (see :mod:`blocks_tui.tui.images`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

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


class HalfcellThumb(Widget):
    """A fixed-size picture made of prebuilt strips (see :func:`halfcell_strips`)."""

    DEFAULT_CSS = "HalfcellThumb { width: 12; height: 6; }"

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.strips: list[Strip] = []

    def set_picture(self, strips: list[Strip] | None) -> None:
        self.strips = strips or []
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if y < len(self.strips):
            return self.strips[y]
        return Strip.blank(self.size.width, self.rich_style)  # an empty slot: the pane's own background
