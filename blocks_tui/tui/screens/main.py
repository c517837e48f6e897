"""The main screen: header, tree | matrix or response map | sample pane, triage panel, status line, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from ...analysis.view_frame import MAX_GUTTER_LEVELS
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


PANE_MIN = 31
"""The sample pane's narrowest: two thumbnail columns."""


def pane_width(width: int, height: int) -> int:
    """The sample pane's columns on a ``width`` x ``height`` screen: what the tree and the largest square
    matrix leave (half blocks: two matrix rows per text line, one column each), at least PANE_MIN."""
    tree = min(max(int(width * 0.26), 32), 48) + 1  # its width rule in blocks.tcss, and its border
    body = height - 3  # header, status line, footer
    matrix = 2 * body + MAX_GUTTER_LEVELS + 1
    return max(PANE_MIN, width - tree - matrix - 2)  # the pane's border and padding


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

    def on_resize(self, event: events.Resize) -> None:
        """The matrix is square: past the square it can fill, the columns go to the sample pane."""
        if self.is_mounted:
            self.query_one("#selection").styles.width = pane_width(event.size.width, event.size.height)

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
