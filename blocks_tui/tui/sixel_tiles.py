"""Sixel thumbnails: textual-image's Sixel widget, with its colour palette sent before the picture.

textual-image defines each colour register where it is first used, in the
middle of the sixel bands.  xterm (as a VT340) paints the first band
before such late definitions take effect, so the top six pixel rows of
every thumbnail came out as a strip of wrong colours: grey over a padded
picture, noise over an unpadded one.  A real VT340 and ImageMagick's
encoder define every register up front; :func:`hoist_palette` rewrites
the encoder's output the same way, which cost nothing measurable and
made the strip disappear in xterm while other terminals draw it as
before.

Second, textual-image leaves the cursor one row below the picture's last
row after the sixel data (``Region.bottom`` is exclusive), so the rest of
that row was written on the row below and the cells right of a tile kept
whatever a popup had drawn there.  :class:`SixelTile` puts the cursor back
at the end of the last row.

Third, encoding is the slow part of showing a page of thumbnails (about
5 ms a picture), and textual-image keeps only each widget's last one.
Tiles swap pictures as the cursor moves, so encoded pictures are kept in
an LRU shared by all tiles, keyed by the pixels themselves.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from textual.cache import LRUCache

from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style

from .quiet_import import import_widgets

_NO_STYLE = Style()
_ENCODED: LRUCache[tuple[Any, ...], str] = LRUCache(512)  # about 6 KB a thumbnail

_DEFINE = re.compile(r"#(\d+);2;(\d+);(\d+);(\d+)")  # a colour definition: register; RGB in percent
_HEADER = re.compile(r'\x1bP[0-9;]*q("[0-9;]*)?')  # DCS … q, and the raster attributes if any


def hoist_palette(sixels: str) -> str:
    """``sixels`` with every colour definition moved in front of the first band (and replaced by a plain
    register selection where it was).  Data that redefines a register is returned unchanged, since
    moving a redefinition would change the picture."""
    head = _HEADER.match(sixels)
    if head is None:
        return sixels
    definitions: dict[str, str] = {}
    for match in _DEFINE.finditer(sixels, head.end()):
        if definitions.setdefault(match.group(1), match.group(0)) != match.group(0):
            return sixels
    body = _DEFINE.sub(lambda m: "#" + m.group(1), sixels[head.end():])
    return sixels[: head.end()] + "".join(definitions.values()) + body


def sixel_tile_class() -> Any:
    """textual-image's Sixel widget, drawing through an encoder that hoists the palette.

    Built on first use, since importing textual-image must wait for
    :func:`~blocks_tui.tui.images.choose_backend` (see there).
    """
    global _SIXEL_TILE
    if _SIXEL_TILE is None:
        widget = import_widgets()
        from textual_image.widget.sixel import _ImageSixelImpl

        class _Hoisted(_ImageSixelImpl):  # type: ignore[misc, valid-type]
            def _image_to_sixels(self, image: Any, sixel_options: Any = None, background: Any = None) -> str:
                key = (hashlib.blake2b(image.tobytes(), digest_size=16).digest(), image.size, image.mode,
                       sixel_options, background)
                data = _ENCODED.get(key)
                if data is None:
                    data = _ENCODED[key] = hoist_palette(super()._image_to_sixels(image, sixel_options, background))
                return data

            def _get_sixel_segments(self, sixel_data: str) -> list[Segment]:
                region = self.screen.find_widget(self).visible_region
                return [
                    Segment(Control.move_to(region.x, region.y).segment.text, _NO_STYLE),
                    Segment(sixel_data, _NO_STYLE, ((ControlType.CURSOR_FORWARD, 0),)),
                    Segment(Control.move_to(region.right, region.bottom - 1).segment.text, _NO_STYLE),
                ]

        class SixelTile(widget.SixelImage, Renderable=widget.SixelImage._Renderable):  # type: ignore[misc, name-defined]
            def compose(self) -> Any:
                yield _Hoisted(self.image, self._sixel_options)

        _SIXEL_TILE = SixelTile
    return _SIXEL_TILE


_SIXEL_TILE: Any = None
