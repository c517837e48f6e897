"""Importing textual-image without letting it talk to the terminal.

textual-image probes the terminal when ``textual_image.widget`` is imported
(and 0.12 divides by the reported column count, so a terminal reporting 0
columns raised ZeroDivisionError).  :func:`import_widgets` imports it with a
stand-in stdout that is not a TTY, so the probes stay silent;
:mod:`~blocks_tui.tui.images` asks the terminal itself.  A module of its own
so that the image-mode chooser and the Sixel tile class can both use it
without importing each other.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class _NoTTY:
    """Stands in for ``sys.__stdout__`` while textual-image imports, so its import-time probes stay silent."""

    def __init__(self, real: TextIO | None) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def import_widgets() -> Any:
    """Import ``textual_image.widget`` without letting it query the terminal."""
    if "textual_image.widget" in sys.modules:
        return sys.modules["textual_image.widget"]
    real = sys.__stdout__
    sys.__stdout__ = _NoTTY(real)  # type: ignore[assignment]
    try:
        import textual_image.widget as widget
    finally:
        sys.__stdout__ = real  # type: ignore[assignment]
    return widget
