"""Every key binding of the viewer, as data.

One table feeds the Textual ``BINDINGS`` of the app and the widgets, the
help screen, the command palette and the keymap check, so they cannot drift
apart.  Each binding has an id (``scope.name``); a user keymap file maps ids
to other keys (see :mod:`blocks_tui.tui.keymap`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

SCOPES = {"app": "Anywhere", "matrix": "Confusion matrix", "tree": "Hierarchy tree"}


@dataclass(frozen=True)
class KeySpec:
    """One binding: its id, default keys (comma-separated), action, footer label and help text."""

    id: str
    keys: str
    action: str
    label: str
    help: str
    show: bool = True

    @property
    def scope(self) -> str:
        return self.id.split(".", 1)[0]

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.label, show=self.show, id=self.id)


APP_KEYS = [
    KeySpec("app.help", "question_mark", "help", "Help", "Show every key binding"),
    KeySpec("app.filter", "f", "filter", "Filter",
            "Filter the matrix: minimum count, top-k errors, probability ranges, result sets"),
    KeySpec("app.seriate", "s", "seriate", "Seriate",
            "Seriate the current block with a chosen algorithm and offer it as the hierarchy"),
    KeySpec("app.partition", "b", "partition", "Blocks", "Partition the current block into b diagonal blocks"),
    KeySpec("app.next_outlier", "n", "next_outlier", "Outlier", "Jump to the next block outlier"),
    KeySpec("app.previous_outlier", "N", "previous_outlier", "Prev outlier",
            "Jump to the previous block outlier", show=False),
    KeySpec("app.zoom_out", "backspace,escape", "zoom_out", "Back", "Zoom out one level"),
    KeySpec("app.zoom_top", "Z", "zoom_top", "Zoom to top", "Zoom out to the whole hierarchy", show=False),
    KeySpec("app.diagonal", "d", "toggle_diagonal", "Diagonal", "Show or hide the diagonal (correct predictions)",
            show=False),
    KeySpec("app.scale", "c", "toggle_scale", "Lin/log", "Switch the colour scale between linear and log",
            show=False),
    KeySpec("app.metric", "M", "cycle_metric", "Metric",
            "Cycle the tree metric: F1, precision, recall, their change against another result set", show=False),
    KeySpec("app.sort", "O", "cycle_sort", "Sort",
            "Cycle how children are sorted: stored order, name, size, metric", show=False),
    KeySpec("app.quit", "q", "quit", "Quit", "Quit blocks-tui", show=False),
]

MATRIX_KEYS = [
    KeySpec("matrix.cursor_up", "k,up", "cursor(-1,0)", "Up", "Move the cursor up a cell", show=False),
    KeySpec("matrix.cursor_down", "j,down", "cursor(1,0)", "Down", "Move the cursor down a cell", show=False),
    KeySpec("matrix.cursor_left", "h,left", "cursor(0,-1)", "Left", "Move the cursor left a cell", show=False),
    KeySpec("matrix.cursor_right", "l,right", "cursor(0,1)", "Right", "Move the cursor right a cell", show=False),
    KeySpec("matrix.page_up", "K,pageup", "cursor(-8,0)", "Up 8", "Move the cursor up 8 cells", show=False),
    KeySpec("matrix.page_down", "J,pagedown", "cursor(8,0)", "Down 8", "Move the cursor down 8 cells", show=False),
    KeySpec("matrix.page_left", "H", "cursor(0,-8)", "Left 8", "Move the cursor left 8 cells", show=False),
    KeySpec("matrix.page_right", "L", "cursor(0,8)", "Right 8", "Move the cursor right 8 cells", show=False),
    KeySpec("matrix.first", "g,home", "corner(0)", "First", "Cursor to the first diagonal cell", show=False),
    KeySpec("matrix.last", "G,end", "corner(1)", "Last", "Cursor to the last diagonal cell", show=False),
    KeySpec("matrix.diagonal", "x", "to_diagonal", "To diagonal",
            "Cursor to the diagonal cell of its row", show=False),
    KeySpec("matrix.zoom_in", "enter", "zoom_in", "Zoom", "Zoom into the diagonal block under the cursor"),
]

TREE_KEYS = [
    KeySpec("tree.down", "j", "cursor_down", "Down", "Next node", show=False),
    KeySpec("tree.up", "k", "cursor_up", "Up", "Previous node", show=False),
    KeySpec("tree.collapse", "h,left", "collapse_or_parent", "Collapse",
            "Collapse the node, or go to its parent", show=False),
    KeySpec("tree.expand", "l,right", "expand_or_child", "Expand",
            "Expand the node, or go to its first child", show=False),
    KeySpec("tree.first", "g,home", "scroll_home", "Top", "First node", show=False),
    KeySpec("tree.last", "G,end", "scroll_end", "Bottom", "Last visible node", show=False),
    KeySpec("tree.toggle", "space", "toggle_node", "Toggle", "Expand or collapse the node", show=False),
    KeySpec("tree.zoom", "enter", "select_cursor", "Zoom", "Zoom the matrix to the node"),
]

ALL_KEYS = APP_KEYS + MATRIX_KEYS + TREE_KEYS
BY_ID = {spec.id: spec for spec in ALL_KEYS}


def bindings(specs: list[KeySpec]) -> list[Binding]:
    """Textual bindings of a scope's specs, ids included so a keymap can move them."""
    return [spec.binding() for spec in specs]
