"""Choosing how thumbnails are drawn: Kitty graphics, Sixel, half cells, unicode, or not at all.

textual-image picks a protocol when its modules are imported, by writing
escape sequences to the terminal and waiting up to 0.1 s for each answer,
and measures the cell size in pixels the same way.  Version 0.12 divides
by the column count the terminal reports, so a terminal that reports 0
columns (some serial consoles, ``script``, CI pseudo-terminals) raises
ZeroDivisionError at import time.  So the import happens here, once,
before Textual starts, with its probes switched off; the probes we do want
run under a guard that turns any failure into "half cells".  tmux passes
neither Kitty graphics nor Sixel through reliably, so inside tmux ``auto``
means half cells, which are drawn by our own widget (see
:mod:`~blocks_tui.tui.widgets.thumbnail`) without importing textual-image.  Nothing here can raise into the viewer, and ``auto``
costs at most three 0.1 s probes on a graphics-less terminal.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Mapping, TextIO

MODES = ("auto", "tgp", "sixel", "halfcell", "unicode", "off")


@dataclass(frozen=True)
class ImageBackend:
    """How the sample pane draws thumbnails: ``mode`` (one of MODES but auto) and why it was chosen."""

    mode: str
    reason: str

    @property
    def widget_class(self) -> Any:
        """The textual-image widget class that draws a thumbnail in this mode; None for half cells and
        ``off``, which the sample grid draws itself from cached strips
        (:mod:`~blocks_tui.tui.widgets.thumbnail`: ten times cheaper per repaint than textual-image's
        renderable, and no widget per tile).
        """
        if self.mode in ("halfcell", "off"):
            return None
        widget = _import_widgets()
        return {"tgp": widget.TGPImage, "sixel": widget.SixelImage, "unicode": widget.UnicodeImage}[self.mode]


class _NoTTY:
    """Stands in for ``sys.__stdout__`` while textual-image imports, so its import-time probes stay silent."""

    def __init__(self, real: TextIO | None) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _import_widgets() -> Any:
    """Import ``textual_image.widget`` without letting it query the terminal (see the module docstring)."""
    if "textual_image.widget" in sys.modules:
        return sys.modules["textual_image.widget"]
    real = sys.__stdout__
    sys.__stdout__ = _NoTTY(real)  # type: ignore[assignment]
    try:
        import textual_image.widget as widget
    finally:
        sys.__stdout__ = real  # type: ignore[assignment]
    return widget


def _measure_cells() -> None:
    """Ask the real terminal for its cell size in pixels (Kitty and Sixel images need it); never raises."""
    from textual_image import _terminal

    if hasattr(_terminal.get_cell_size, "_result"):
        delattr(_terminal.get_cell_size, "_result")  # cached from the silent import: 10x20 guesses
    try:
        _terminal.get_cell_size()
    except Exception:  # noqa: BLE001 - ZeroDivisionError on 0 columns, termios errors, closed stdout
        _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]


def _probe(name: str) -> bool:
    """Does the terminal answer textual-image's query for ``tgp`` or ``sixel``?  Never raises."""
    try:
        from textual_image.renderable import sixel, tgp

        return bool((tgp if name == "tgp" else sixel).query_terminal_support())
    except Exception:  # noqa: BLE001 - any failure means "no", and half cells still work
        return False


def choose_backend(mode: str = "auto", environ: Mapping[str, str] | None = None,
                   stdout: TextIO | None = None) -> ImageBackend:
    """The backend for ``--images MODE``; call it before the Textual app starts (probes read stdin).

    ``auto``: no terminal → half cells (screenshots, tests); inside tmux or
    screen → half cells; ``TERM=dumb`` → off; otherwise Sixel, then Kitty
    graphics, if the terminal says it has them, else half cells.  An
    explicit protocol is trusted as asked.
    """
    if mode not in MODES:
        raise ValueError(f"--images must be one of {', '.join(MODES)}, got {mode!r}")
    env = os.environ if environ is None else environ
    out = sys.__stdout__ if stdout is None else stdout
    if mode != "auto":
        if mode in ("tgp", "sixel", "unicode"):
            _import_widgets()  # here, before Textual starts, with its probes off
        if mode in ("tgp", "sixel") and _isatty(out):
            _measure_cells()
        return ImageBackend(mode, "asked for")
    if not _isatty(out):
        return ImageBackend("halfcell", "no terminal")
    if env.get("TERM", "") == "dumb":
        return ImageBackend("off", "TERM=dumb")
    if env.get("TMUX") or env.get("STY") or env.get("TERM", "").startswith(("screen", "tmux")):
        return ImageBackend("halfcell", "inside tmux/screen, which do not pass graphics through")
    _import_widgets()
    for name in ("sixel", "tgp"):
        if _probe(name):
            _measure_cells()
            return ImageBackend(name, "the terminal answered")
    return ImageBackend("halfcell", "the terminal reports no graphics protocol")


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream and stream.isatty())
    except (ValueError, OSError):  # a closed stream
        return False
