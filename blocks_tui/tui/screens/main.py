"""The main screen: header, tree | matrix or response map | sample pane, triage panel, status line, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from ..bindings import MAIN_KEYS, bindings
from ..widgets.centre import Centre
from ..widgets.header import Breadcrumb
from ..widgets.hierarchy import HierarchyTree
from ..widgets.samples import SamplePane
from ..widgets.status import StatusLine
from ..widgets.triage import TriagePanel
from .dialogs import TextDialog

if TYPE_CHECKING:
    from ..viewer import Viewer


class MainScreen(Screen[None]):
    """Layout only: the app and its features own the state and handle the widgets' messages.

    Tab is bound here rather than on the app: a screen's own ``tab`` binding
    (focus next) would shadow an app binding, and modal screens keep Tab for
    moving between their inputs.
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#matrix"
    BINDINGS = bindings(MAIN_KEYS)

    def __init__(self, viewer: "Viewer") -> None:
        super().__init__()
        self.viewer = viewer

    def ask_text(self, question: str, value: str, placeholder: str, done: Callable[[str | None], None]) -> None:
        """A one-line text dialog for the widgets that need one (the triage panel's notes and export)."""
        self.app.push_screen(TextDialog(question, value, placeholder), done)

    def compose(self) -> ComposeResult:
        yield Breadcrumb(id="header")
        with Horizontal(id="body"):
            yield HierarchyTree(id="tree")
            yield Centre(self.viewer, id="centre")
            yield SamplePane(self.viewer.images, id="selection")
        yield TriagePanel(self.ask_text, id="triage")
        yield StatusLine(id="status")
        yield Footer(compact=True)
