"""The main screen: header, tree | matrix | selection pane, status line, footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets.header import Breadcrumb
from ..widgets.hierarchy import HierarchyTree
from ..widgets.matrix import ConfusionMatrix
from ..widgets.selection import SelectionPane
from ..widgets.status import StatusLine


class MainScreen(Screen[None]):
    """Layout only: the app owns the state and handles the widgets' messages."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#matrix"

    def compose(self) -> ComposeResult:
        yield Breadcrumb(id="header")
        with Horizontal(id="body"):
            yield HierarchyTree(id="tree")
            yield ConfusionMatrix(id="matrix")
            yield SelectionPane(id="selection")
        yield StatusLine(id="status")
        yield Footer()
