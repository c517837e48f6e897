"""Choose the result sets the pane's right/wrong filter spans (paper §3.4: outcomes across N result sets).

``x`` in the sample pane steps through right in all of them, wrong in all,
right only in the active one and wrong only in it; this dialog (``X``)
says which sets "all" means: every checkpoint and variant, or a chosen few
(say the epochs, without grayscale and rot90).  Result-set names come from
the data, so they are shown as plain text, never as markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList

from ...safe_text import plain


class SetPicker(SelectionList[str]):
    """Space toggles a result set, Enter applies the choice; vim keys move."""

    BINDINGS = [
        Binding("enter", "screen.apply", "Apply", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("a", "screen.every", "All", show=False),
    ]


class ResultSetsDialog(ModalScreen[tuple[str, ...] | None]):
    """Tick the result sets; returns the ticked ones (the active one always among them), or None on Escape."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="result_sets.cancel")]
    AUTO_FOCUS = "#result-sets"

    def __init__(self, names: list[str], active: str, chosen: tuple[str, ...]) -> None:
        super().__init__()
        self.names, self.active, self.chosen = names, active, set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Right/wrong across which result sets?")
            yield SetPicker(*[(plain(name) + ("  (active)" if name == self.active else ""), name,
                               name in self.chosen or name == self.active) for name in self.names],
                            id="result-sets")
            yield Label("space: tick or untick · a: all · enter: apply · esc: cancel", classes="dialog-help")

    def action_apply(self) -> None:
        picked = self.query_one(SetPicker).selected
        self.dismiss(tuple(name for name in self.names if name in picked or name == self.active))

    def action_every(self) -> None:
        self.query_one(SetPicker).select_all()
