"""Kitty graphics for the sample grid: each picture sent once, then placed at the cursor by id.

textual-image draws Kitty graphics through Unicode placeholders, which
kitty added in 0.28; older kitty (Debian 12 ships 0.26.5) shows the
placeholder characters instead of the picture.  Direct placement has
worked since kitty 0.20: the picture is transmitted once under an image
id (``a=t``), and a placement command (``a=p``) written where the cursor
stands shows it over the next ``c`` × ``r`` cells without moving the
cursor (``C=1``).  The sample grid writes these commands once a frame
has been drawn, each after a cursor move to its tile's top-left cell, in
the same stream as Textual's output.  (Inside the frame's own lines they
would not survive: Textual counts the printable characters of a control
string as cells and cuts lines at popups, which printed half a command
as text.)

Placements outlive the text drawn under them, so this module also keeps
track of what is placed where: one placement id per grid slot, removed
when its slot shows another sample or nothing, when a screen or popup
covers the grid, and when the viewer quits.  Pictures live in the
terminal's memory (kitty keeps up to 320 MB); the oldest are freed when
more than :data:`KEEP` have been sent.
"""

from __future__ import annotations

import base64
import io
import random
from collections import OrderedDict

from PIL import Image as PILImage

KEEP = 256  # pictures kept in the terminal's memory
CHUNK = 4096  # base64 bytes per transmission command, the protocol's limit


def _command(payload: str = "", **keys: int | str) -> str:
    """One graphics command: ``ESC _ G key=value,... ; payload ESC \\``, quiet (``q=2``: no replies)."""
    head = ",".join(f"{k}={v}" for k, v in keys.items())
    return f"\x1b_G{head},q=2{';' + payload if payload else ''}\x1b\\"


def transmit(image_id: int, picture: PILImage.Image) -> str:
    """The commands that send ``picture`` as PNG under ``image_id``, in chunks."""
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="PNG", compress_level=1)
    data = base64.standard_b64encode(buffer.getvalue()).decode("ascii")
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [""]
    out = []
    for n, chunk in enumerate(chunks):
        more = int(n < len(chunks) - 1)
        out.append(_command(chunk, a="t", f=100, i=image_id, m=more) if n == 0 else _command(chunk, m=more))
    return "".join(out)


def place(image_id: int, placement: int, columns: int, rows: int) -> str:
    """Show picture ``image_id`` at the cursor over ``columns`` × ``rows`` cells, leaving the cursor put."""
    return _command(a="p", i=image_id, p=placement, c=columns, r=rows, C=1)


def remove(image_id: int, placement: int) -> str:
    """Take one placement off the screen; the picture stays in the terminal's memory."""
    return _command(a="d", d="i", i=image_id, p=placement)


def free(image_id: int) -> str:
    """Forget a picture and every placement of it."""
    return _command(a="d", d="I", i=image_id)


def at(x: int, y: int, commands: str) -> str:
    """``commands`` run with the cursor on cell (``x``, ``y``), 0-based, and the cursor put back after."""
    return f"\x1b7\x1b[{y + 1};{x + 1}H{commands}\x1b8" if commands else ""


class KittyPlacements:
    """Which picture each slot of the grid shows, and the commands that make the terminal agree.

    Slots are numbered from 0; a slot's placement id is ``slot + 1`` (0
    means "no id" in the protocol).  Image ids start at a random base, as
    other programs in the same terminal may use small ones.
    """

    def __init__(self) -> None:
        self._base = random.randint(1 << 20, 1 << 30)
        self._ids: OrderedDict[int, int] = OrderedDict()  # sample → image id, oldest first
        self._placed: dict[int, tuple[int, int, int]] = {}  # slot → (image id, x, y) on screen
        self._next = 0

    def image_id(self, sample: int, picture: PILImage.Image) -> tuple[int, str]:
        """The id of ``sample``'s picture, and the commands to send it when the terminal lacks it."""
        known = self._ids.get(sample)
        if known is not None:
            self._ids.move_to_end(sample)
            return known, ""
        self._next += 1
        image_id = self._base + self._next
        self._ids[sample] = image_id
        commands = transmit(image_id, picture)
        while len(self._ids) > KEEP:
            _, old = self._ids.popitem(last=False)
            commands = free(old) + commands
            self._placed = {slot: p for slot, p in self._placed.items() if p[0] != old}
        return image_id, commands

    def show(self, slot: int, sample: int, picture: PILImage.Image, columns: int, rows: int,
             x: int, y: int) -> str:
        """The commands that put ``sample``'s picture in ``slot`` with its top-left cell at (``x``, ``y``):
        send it if the terminal lacks it, take the slot's old picture off, place; "" when already so."""
        image_id, commands = self.image_id(sample, picture)
        old = self._placed.get(slot)
        if old == (image_id, x, y):
            return commands
        if old is not None and old[0] != image_id:
            commands += remove(old[0], slot + 1)
        self._placed[slot] = (image_id, x, y)
        return commands + at(x, y, place(image_id, slot + 1, columns, rows))

    def clear(self, slot: int) -> str:
        """The command that empties ``slot``, or "" when it shows nothing."""
        old = self._placed.pop(slot, None)
        return remove(old[0], slot + 1) if old is not None else ""

    def hide_all(self) -> str:
        """Take every placement off the screen (a popup covers the grid); the pictures stay sent."""
        commands = "".join(remove(image_id, slot + 1) for slot, (image_id, _, _) in self._placed.items())
        self._placed.clear()
        return commands

    def free_all(self) -> str:
        """Forget every picture sent (the viewer quits): nothing is left on the screen or in memory."""
        commands = "".join(free(image_id) for image_id in self._ids.values())
        self._ids.clear()
        self._placed.clear()
        return commands
