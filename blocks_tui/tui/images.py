"""Choosing how thumbnails are drawn: Kitty graphics, Sixel, half cells, unicode, or not at all.

``auto`` asks the terminal once, before Textual starts, with one burst of
queries answered in a single round trip:

* XTVERSION (``CSI > 0 q``): the terminal's name and version, e.g. ``kitty(0.26.5)``;
* a Kitty graphics query (``APC G a=q``): ``OK`` where the protocol exists;
* the text-area size in pixels (``CSI 14 t``), when the pty does not say (``TIOCGWINSZ``);
* Primary Device Attributes (``CSI c``) last.  Every terminal answers DA1,
  and answers in order, so its reply ends the wait: a terminal that
  ignores the other queries costs one round trip, not a time-out.  Its
  attribute 4 means Sixel.

The rules, in order: no terminal → half cells (screenshots, pipes);
``TERM=dumb`` → off; inside tmux or screen → half cells, since neither
passes Sixel or Kitty graphics through unless configured to (ask with
``--images`` when yours is); kitty or Ghostty → Kitty graphics; a Sixel
terminal → Sixel; another terminal that answers the Kitty query → Kitty
graphics; else half cells.  Kitty graphics are placed directly at the
cursor (:mod:`~blocks_tui.tui.kitty_graphics`), not through Unicode
placeholders, so every kitty since 0.20 shows them, 0.26 included.  The
probe never waits more than :data:`PROBE_TIMEOUT` and never raises: any
failure means half cells.

textual-image (which draws Sixel and unicode tiles) probes the terminal
when imported and divides by the reported column count, so a terminal
reporting 0 columns raised ZeroDivisionError; it is imported with its
probes silenced (:mod:`~blocks_tui.tui.quiet_import`), and told the cell
size we measured.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from dataclasses import dataclass
from typing import Any, Mapping, TextIO

from .quiet_import import import_widgets

MODES = ("auto", "tgp", "kitty", "sixel", "halfcell", "unicode", "off")
ALIASES = {"kitty": "tgp"}
PROBE_TIMEOUT = 0.3  # seconds: the whole burst; a local terminal answers in about a millisecond
DEFAULT_CELL = (10, 20)  # pixels; a VT340's cell, and what textual-image assumes
MODE_NAMES = {"tgp": "Kitty graphics", "sixel": "Sixel", "halfcell": "half cells", "unicode": "unicode blocks",
              "off": "no pictures"}

QUERIES = "\x1b[>0q" "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\" "\x1b[14t" "\x1b[c"
_XTVERSION = re.compile(rb"\x1bP>\|([^\x1b]*)\x1b\\")
_KITTY_OK = re.compile(rb"\x1b_Gi=31;OK\x1b\\")
_PIXELS = re.compile(rb"\x1b\[4;(\d+);(\d+)t")
_DA1 = re.compile(rb"\x1b\[\?([0-9;]*)c")


@dataclass(frozen=True)
class ImageBackend:
    """How the sample pane draws thumbnails: ``mode`` (one of MODES but auto and kitty), why, and the
    terminal's cell size in pixels (what graphics tiles are sized from)."""

    mode: str
    reason: str
    cell: tuple[int, int] = DEFAULT_CELL

    @property
    def widget_class(self) -> Any:
        """The textual-image widget class that draws a thumbnail in this mode; None where the sample
        grid draws tiles itself: half cells and ``off`` from cached strips
        (:mod:`~blocks_tui.tui.widgets.thumbnail`), Kitty graphics as direct placements
        (:mod:`~blocks_tui.tui.kitty_graphics`).
        """
        if self.mode in ("halfcell", "off", "tgp"):
            return None
        if self.mode == "sixel":
            from .sixel_tiles import sixel_tile_class

            return sixel_tile_class()
        return import_widgets().UnicodeImage

    @property
    def graphics(self) -> bool:
        """Pixels, not characters: tiles are sized from the cell size."""
        return self.mode in ("tgp", "sixel")

    def describe(self) -> str:
        """One line for the help screen: the mode, why, and the cell size where it matters."""
        size = f", cells {self.cell[0]}×{self.cell[1]} px" if self.graphics else ""
        return f"{MODE_NAMES.get(self.mode, self.mode)} ({self.reason}{size})"


@dataclass(frozen=True)
class TerminalReport:
    """What a terminal said about itself in answer to :data:`QUERIES`."""

    name: str = ""  # XTVERSION, e.g. "kitty(0.26.5)" or "XTerm(379)"; "" when it did not say
    kitty_graphics: bool = False
    sixel: bool = False
    pixels: tuple[int, int] | None = None  # text area (width, height) in pixels
    answered: bool = False  # DA1 came back: the terminal talks

    @classmethod
    def parse(cls, data: bytes) -> TerminalReport:
        version = _XTVERSION.search(data)
        pixels = _PIXELS.search(data)
        da1 = _DA1.search(data)
        return cls(
            name=version.group(1).decode("utf-8", "replace") if version else "",
            kitty_graphics=bool(_KITTY_OK.search(data)),
            sixel=bool(da1 and "4" in da1.group(1).decode().split(";")[1:]),
            pixels=(int(pixels.group(2)), int(pixels.group(1))) if pixels else None,
            answered=bool(da1),
        )


def decide(report: TerminalReport) -> tuple[str, str]:
    """The mode ``auto`` picks for a terminal that answered ``report``, and why (see the module docstring)."""
    name = report.name.lower()
    shown = report.name.split("(")[0].split(" ")[0] or "the terminal"
    if name.startswith(("kitty", "ghostty")) and report.kitty_graphics:
        return "tgp", f"{shown} has Kitty graphics"
    if report.sixel:
        return "sixel", f"{shown} reports Sixel"
    if report.kitty_graphics:
        return "tgp", f"{shown} answered the Kitty graphics query"
    if not report.answered:
        return "halfcell", "the terminal did not answer"
    return "halfcell", f"{shown} reports neither Sixel nor Kitty graphics"


def cell_size(columns: int, rows: int, pixels: tuple[int, int] | None) -> tuple[int, int] | None:
    """Pixels per cell from the text area's size; None when unknown or implausible."""
    if not pixels or columns <= 0 or rows <= 0:
        return None
    width, height = pixels[0] // columns, pixels[1] // rows
    return (width, height) if 2 <= width <= 200 and 2 <= height <= 400 else None


def _tell_textual_image(cell: tuple[int, int]) -> None:
    """textual-image sizes Sixel data from its own cached cell size: make it ours."""
    from textual_image import _terminal

    _terminal.get_cell_size._result = _terminal.CellSize(*cell)  # type: ignore[attr-defined]


def _window(fd: int) -> tuple[int, int, int, int]:
    """(columns, rows, width px, height px) of the terminal on ``fd``; zeros where unknown."""
    import fcntl
    import struct
    import termios

    try:
        rows, columns, width, height = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return 0, 0, 0, 0
    return columns, rows, width, height


def query_terminal(stdin: int, stdout: int, timeout: float = PROBE_TIMEOUT) -> bytes:
    """Send :data:`QUERIES` and read the replies until DA1's arrives or ``timeout`` passes; never raises.

    The terminal is put in raw mode without echo for the duration, so the
    replies are neither shown nor left for the application to read as keys.
    """
    import termios
    import tty

    try:
        saved = termios.tcgetattr(stdin)
    except (termios.error, OSError):
        return b""
    data = b""
    try:
        tty.setraw(stdin, termios.TCSANOW)
        os.write(stdout, QUERIES.encode())
        deadline = time.monotonic() + timeout
        while not _DA1.search(data):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdin], [], [], left)[0]:
                break
            chunk = os.read(stdin, 4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        try:
            termios.tcsetattr(stdin, termios.TCSAFLUSH, saved)
        except (termios.error, OSError):
            pass
    return data


def choose_backend(mode: str = "auto", environ: Mapping[str, str] | None = None,
                   stdout: TextIO | None = None, stdin: TextIO | None = None) -> ImageBackend:
    """The backend for ``--images MODE``; call it before the Textual app starts (the probe reads stdin).

    An explicit mode is used as asked (``kitty`` is another name for
    ``tgp``); graphics modes still measure the cell size.
    """
    if mode not in MODES:
        raise ValueError(f"--images must be one of {', '.join(MODES)}, got {mode!r}")
    mode = ALIASES.get(mode, mode)
    env = os.environ if environ is None else environ
    out = sys.__stdout__ if stdout is None else stdout
    inp = sys.__stdin__ if stdin is None else stdin
    if mode in ("sixel", "unicode"):
        import_widgets()  # here, before Textual starts, with its probes off
    terminal = _isatty(out) and _isatty(inp)
    if mode != "auto":
        cell = DEFAULT_CELL
        if terminal and mode in ("tgp", "sixel"):
            cell = _cell(out) or _cell(out, _ask(inp, out).pixels) or DEFAULT_CELL
        if mode == "sixel":
            _tell_textual_image(cell)
        return ImageBackend(mode, "asked for with --images", cell)
    if not terminal:
        return ImageBackend("halfcell", "no terminal")
    if env.get("TERM", "") == "dumb":
        return ImageBackend("off", "TERM=dumb")
    if env.get("TMUX") or env.get("STY") or env.get("TERM", "").startswith(("screen", "tmux")):
        return ImageBackend("halfcell", "inside tmux or screen, which pass no graphics by default; "
                                        "--images sixel or kitty if yours does")
    report = _ask(inp, out)
    chosen, reason = decide(report)
    cell = _cell(out, report.pixels) or DEFAULT_CELL
    if chosen == "sixel":
        import_widgets()
        _tell_textual_image(cell)
    return ImageBackend(chosen, reason, cell)


def _ask(inp: TextIO | None, out: TextIO | None) -> TerminalReport:
    """The terminal's answers to :data:`QUERIES`; an empty report when it cannot be asked."""
    try:
        return TerminalReport.parse(query_terminal(inp.fileno(), out.fileno()))  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - a terminal that cannot be asked gets half cells, never a crash
        return TerminalReport()


def _cell(out: TextIO | None, pixels: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """Pixels per cell from the pty's window size, else from the text area's size in ``pixels``."""
    try:
        columns, rows, width, height = _window(out.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return None
    return cell_size(columns, rows, (width, height) if width and height else None) or cell_size(columns, rows, pixels)


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream and stream.isatty())
    except (ValueError, OSError):  # a closed stream
        return False
