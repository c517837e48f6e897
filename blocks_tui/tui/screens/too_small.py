"""Shown instead of the viewer when the terminal is below the minimum size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH = 60
MIN_HEIGHT = 16


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmallScreen(Screen[None]):
    """One clear message; the app removes this screen as soon as the terminal is big enough."""

    BINDINGS = [Binding("q", "app.quit", "Quit", id="too_small.quit")]

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.width, self.height = width, height

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self._text(), id="too-small")

    def _text(self) -> str:
        # Short lines: this text must fit the very terminals it is shown on.
        return (f"blocks-tui needs {MIN_WIDTH}×{MIN_HEIGHT};\nthis terminal is {self.width}×{self.height}.\n"
                "Enlarge it, or press q.")

    def resized(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.query_one("#too-small", Static).update(self._text())
