"""``/``: type part of a class, group or sample id; Enter goes there.

The list under the input follows every keystroke (see
:func:`blocks_tui.analysis.find.find`); the arrows move in it while the
input keeps the focus, as in the command palette.
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ...analysis.find import Found
from ...safe_text import printable

KIND_STYLE = {"class": "bold", "group": "bold cyan", "sample": "bold magenta"}


class FindScreen(ModalScreen[Found | None]):
    """Returns the chosen match, or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="find.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="find.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="find.up"),
    ]

    def __init__(self, search: Callable[[str], list[Found]], initial: str = "") -> None:
        super().__init__()
        self.search = search
        self.initial = initial
        self.matches: list[Found] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="find-box"):
            yield Input(self.initial, placeholder="class, group or #sample", id="find-query")
            yield OptionList(id="find-matches")
            yield Label("", id="find-note")

    def on_mount(self) -> None:
        self._update(self.initial)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update(event.value)

    def _update(self, query: str) -> None:
        self.matches = self.search(query)
        options = self.query_one("#find-matches", OptionList)
        options.clear_options()
        options.add_options([Option(_line(found)) for found in self.matches])
        if self.matches:
            options.highlighted = 0
        note = self.query_one("#find-note", Label)
        note.display = bool(query.strip()) and not self.matches
        note.update(Text(f"nothing matches {query.strip()!r}", style="yellow"))

    def action_move(self, step: int) -> None:
        options = self.query_one("#find-matches", OptionList)
        if self.matches:
            current = options.highlighted if options.highlighted is not None else 0
            options.highlighted = max(0, min(len(self.matches) - 1, current + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._choose(self.query_one("#find-matches", OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if self.matches:
            self.dismiss(self.matches[index if index is not None else 0])


def _line(found: Found) -> Text:
    return Text.assemble((f"{found.kind:<7}", "dim"), (printable(found.name), KIND_STYLE[found.kind]), "  ",
                         (printable(found.detail), "dim"))
