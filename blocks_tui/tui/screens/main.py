"""The main screen: header, tree | matrix or response map | sample pane, triage panel, status line, footer."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from ..bindings import MAIN_KEYS, bindings
from ..images import ImageBackend
from ..widgets.header import Breadcrumb
from ..widgets.hierarchy import HierarchyTree
from ..widgets.matrix import ConfusionMatrix
from ..widgets.responses import ResponseMap
from ..widgets.samples import SamplePane
from ..widgets.status import StatusLine
from ..widgets.triage import TriagePanel
from .dialogs import TextDialog


class MainScreen(Screen[None]):
    """Layout only: the app owns the state and handles the widgets' messages.

    Tab is bound here rather than on the app: a screen's own ``tab`` binding
    (focus next) would shadow an app binding, and modal screens keep Tab for
    moving between their inputs.
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#matrix"
    BINDINGS = bindings(MAIN_KEYS)

    def __init__(self, images: ImageBackend) -> None:
        super().__init__()
        self.images = images

    def ask_text(self, question: str, value: str, placeholder: str, done: Callable[[str | None], None]) -> None:
        """A one-line text dialog for the widgets that need one (the triage panel's notes and export)."""
        self.app.push_screen(TextDialog(question, value, placeholder), done)

    def compose(self) -> ComposeResult:
        yield Breadcrumb(id="header")
        with Horizontal(id="body"):
            yield HierarchyTree(id="tree")
            with ContentSwitcher(initial="matrix", id="centre"):
                yield ConfusionMatrix(id="matrix")
                yield ResponseMap(id="responses")
            yield SamplePane(self.images, id="selection")
        yield TriagePanel(self.ask_text, id="triage")
        yield StatusLine(id="status")
        yield Footer(compact=True)
