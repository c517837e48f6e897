"""Small questions: which seriation, how many blocks, keep the seriation or not.

A block's name comes from the data and a note from a triage file: both are
shown escaped and never as markup (:mod:`blocks_tui.safe_text`).
"""

from __future__ import annotations

from rich.text import Text

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ...safe_text import printable

SERIATION_HELP = {
    "spectral": "Fiedler vector, recursively: fast, finds nested blocks",
    "barycenter": "barycenter heuristic, recursively: cheap, local",
    "leaf": "average linkage with optimal leaf ordering: slow above ~1000 classes",
}


class SeriationDialog(ModalScreen[str | None]):
    """Pick a seriation algorithm; returns its name, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="seriate.cancel")]

    def __init__(self, block: str, size: int) -> None:
        super().__init__()
        self.block, self.size_ = block, size

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Seriate {printable(self.block)} ({self.size_} classes) with:"))
            yield OptionList(*[Option(f"{name:<11} {text}", id=name) for name, text in SERIATION_HELP.items()],
                             id="methods")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PartitionDialog(ModalScreen[int | None]):
    """Ask for a block count: a number, empty for automatic (-1 back to the hierarchy); None cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="partition.cancel")]
    AUTOMATIC = 0
    RESTORE = -1

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size_ = size

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Partition the current block ({self.size_} classes) into how many blocks?")
            yield Input(placeholder="empty: automatic (best modularity); 0: back to the hierarchy", id="blocks")
            yield Label("", id="partition-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.dismiss(self.AUTOMATIC)
            return
        try:
            count = int(text)
        except ValueError:
            count = -2
        if count == 0:
            self.dismiss(self.RESTORE)
        elif 1 <= count <= self.size_:
            self.dismiss(count)
        else:
            self.query_one("#partition-error", Label).update(f"⚠ enter a whole number from 1 to {self.size_}")


class AdoptDialog(ModalScreen[bool]):
    """After a seriation: keep it as the hierarchy (y) or go back (n).  Docked low so the matrix shows."""

    BINDINGS = [Binding("y", "dismiss(True)", "Adopt", id="adopt.yes"),
                Binding("n,escape", "dismiss(False)", "Discard", id="adopt.no")]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="adopt"):
            yield Label(Text.assemble(printable(self.what), "\nAdopt it as the hierarchy?  ", ("y", "bold"), " adopt   ",
                                      ("n", "bold"), " discard"))


class TextDialog(ModalScreen[str | None]):
    """One line of text (a triage note, an export path); Enter returns it, Escape cancels (None)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="text.cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(printable(self.question)))
            # Shown escaped: a note read from a triage file may hold control characters; saved as shown.
            yield Input(value=printable(self.value, None), placeholder=printable(self.placeholder), id="text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
