"""The status line: what the cursor is on, on the left; running work, on the right.

Both sides hold class and node names, result sets and paths from the data,
so both are escaped here (:mod:`blocks_tui.safe_text`), whoever built them.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...safe_text import escaped, printable

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StatusLine(Widget):
    """One line.  ``busy`` shows a spinner and what is running, so slow work is never silent."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.message = Text("")
        self.busy: str | None = None
        self._tick = 0

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.1, self._spin, pause=True)

    def say(self, message: Text | str) -> None:
        self.message = escaped(message if isinstance(message, Text) else Text(message))
        self.refresh()

    def set_busy(self, what: str | None) -> None:
        """Show that ``what`` is running (None: nothing is)."""
        self.busy = what
        if what is None:
            self._timer.pause()
        else:
            self._timer.resume()
        self.refresh()

    def _spin(self) -> None:
        self._tick += 1
        self.refresh()

    def render(self) -> Text:
        text = self.message.copy()
        text.no_wrap, text.overflow = True, "ellipsis"
        if self.busy:
            right = Text(f" {SPINNER[self._tick % len(SPINNER)]} {printable(self.busy)} ", style="bold reverse")
            room = max(0, self.size.width - right.cell_len)
            text.truncate(room, overflow="ellipsis", pad=True)
            text.append_text(right)
        return text
