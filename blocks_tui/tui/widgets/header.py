"""The header line: the zoom path as a breadcrumb, the result set, the filters and the scale.

Node and result-set names come from the data: shown escaped (:mod:`blocks_tui.safe_text`).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...safe_text import printable


class Breadcrumb(Widget):
    """One line; repainted in place (no layout pass) whenever the view changes or the width does."""

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
        """The fullest form that fits the width: labelled facts, then bare values, then fewer facts (the
        least needed first), then a shorter path; the result set, the sample count and the filters stay to the
        last, the filters cut at the edge when even they do not fit."""
        width = self.size.width or 10**6
        for labelled, keep, depth in self._forms():
            text = self._line(labelled, keep, depth)
            if text.cell_len <= width:
                return text
        # Nothing fits: the result set and the sample count, then the filters, cut at the edge.
        return self._line(False, min(3, len(self.facts)), min(len(self.path), 1), filters_last=True)

    def _forms(self) -> list[tuple[bool, int, int]]:
        """(labels shown, facts kept, path steps shown) from the fullest form to the barest."""
        n, steps = len(self.facts), len(self.path)
        least = min(3, n)  # the result set, the sample count and the filters are never dropped
        forms = [(True, n, steps), (False, n, steps)]
        forms += [(False, keep, steps) for keep in range(n - 1, least - 1, -1)]
        forms += [(False, least, depth) for depth in range(min(steps, 2), 0, -1)]
        return forms

    def _line(self, labelled: bool, keep: int, depth: int, filters_last: bool = False) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Blocks ", style="bold reverse")
        text.append(" ")
        path = self.path[-depth:] if depth else []
        if len(path) < len(self.path):
            text.append("… › ", style="dim")
        for i, name in enumerate(path):
            if i:
                text.append(" › ", style="dim")
            text.append(printable(name), style="bold" if i == len(path) - 1 else "")
        if self.note:
            text.append("  │ ", style="dim")
            text.append(printable(self.note), style="bold yellow")
        kept = sorted(sorted(range(len(self.facts)), key=lambda i: _priority(self.facts[i][0]))[:keep])
        if filters_last:
            kept.sort(key=lambda i: self.facts[i][0] == "filters")
        for i in kept:
            label, value = self.facts[i]
            text.append("  │ ", style="dim")
            if labelled:
                text.append(f"{label} ", style="dim")
                text.append(printable(value))
            elif label == "samples":
                text.append(printable(value))
                text.append(" samples", style="dim")
            elif label in ("sort", "scale"):
                text.append(f"{label} ", style="dim")  # a bare "order" or "linear" says nothing
                text.append(printable(value))
            else:
                text.append(printable(value))
        return text


PRIORITY = ("result", "samples", "filters", "scale", "metric", "sort")
"""Which facts stay when the header is short of room, the first the longest."""


def _priority(label: str) -> int:
    return PRIORITY.index(label) if label in PRIORITY else len(PRIORITY)
