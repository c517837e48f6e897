"""The header line: the zoom path as a breadcrumb, the result set, the filters and the scale.

Node and result-set names come from the data: shown escaped (:mod:`blocks_tui.safe_text`).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...safe_text import printable


class Breadcrumb(Widget):
    """One line; repainted in place (no layout pass) whenever the view changes."""

    DEFAULT_CSS = "Breadcrumb { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.path: list[str] = []
        self.facts: list[tuple[str, str]] = []
        self.note = ""

    def show(self, path: list[str], facts: list[tuple[str, str]], note: str = "") -> None:
        """``path`` root first; ``facts`` as (label, value) pairs; ``note`` e.g. a pending seriation."""
        self.path, self.facts, self.note = path, facts, note
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Blocks ", style="bold reverse")
        text.append(" ")
        for i, name in enumerate(self.path):
            if i:
                text.append(" › ", style="dim")
            text.append(printable(name), style="bold" if i == len(self.path) - 1 else "")
        for label, value in self.facts:
            text.append("  │ ", style="dim")
            text.append(f"{label} ", style="dim")
            text.append(printable(value))
        if self.note:
            text.append("  │ ", style="dim")
            text.append(printable(self.note), style="bold yellow")
        return text
