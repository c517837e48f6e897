"""The class hierarchy as a collapsible Textual Tree with a metric bar on every node.

Nodes load lazily: a 1,860-node WordNet tree costs only the children of the
nodes the user opens.  Each label is the node's name, its class count and
the chosen group metric as a bar and a number, right-aligned to the panel.
The widget knows the display tree and one value per node, nothing else;
moving the cursor and pressing Enter become :class:`NodeFocused` and
:class:`ZoomRequested` messages for the app.
"""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...analysis import Tree as ClassTree
from ...safe_text import printable
from ..bindings import TREE_KEYS, bindings

BAR_CELLS = 4
_EIGHTHS = " ▏▎▍▌▋▊▉"
# Red to green in exact xterm-256 colours (167, 173, 179, 143, 107, 71): the same in 256 colours.
_GOOD = ["#d75f5f", "#d7875f", "#d7af5f", "#afaf5f", "#87af5f", "#5faf5f"]
_DROP, _GAIN, _FLAT = "#d75f5f", "#5faf5f", "#8a8a8a"
DELTA_FULL = 0.25
"""A change of this size (or more) fills the bar."""


def metric_bar(value: float, delta: bool, cells: int = BAR_CELLS) -> Text:
    """A ``cells``-wide bar in eighths and the number: level for a metric, signed for a change."""
    if math.isnan(value):
        return Text(" " * cells + "    –", style="dim")
    if delta:
        fill = min(1.0, abs(value) / DELTA_FULL)
        colour = _FLAT if abs(value) < 0.005 else (_DROP if value < 0 else _GAIN)
        number = f"{value:+.2f}"
    else:
        fill = min(1.0, max(0.0, value))
        colour = _GOOD[min(len(_GOOD) - 1, int(fill * len(_GOOD)))]
        number = f" {value:.2f}"
    eighths = round(fill * cells * 8)
    bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
    return Text.assemble((bar.ljust(cells), Style(color=colour)), (number, Style(color=colour, bold=True)))


MIN_NAME = 10
"""Columns a name keeps before the label drops the class count, then narrows the bar."""


def node_label(name: str, classes: int, value: float, delta: bool, width: int, count_width: int = 4) -> Text:
    """``name  classes ▇▇▅ 0.83`` in ``width`` columns, numbers right-aligned, the name cut with ….

    ``count_width`` is the digits of the largest count, so counts line up.  In a
    narrow panel the bar shrinks to two cells, then the count goes, then the
    bar is one cell, so the name and the metric stay readable at 80 columns.
    """
    for count, cells in ((True, BAR_CELLS), (True, 2), (False, 2), (False, 1)):
        shown_count = f" {classes:>{count_width}}" if count else ""
        stats = Text.assemble((shown_count, "dim"), " ", metric_bar(value, delta, cells))
        if width - stats.cell_len >= MIN_NAME:
            break
    room = max(4, width - stats.cell_len)
    name = printable(name)  # a node name comes from the data
    shown = name if len(name) <= room else name[: room - 1] + "…"
    return Text.assemble(shown.ljust(room), stats)


class HierarchyTree(Tree[int]):
    """The display tree; node data are display node numbers."""

    BINDINGS = bindings(TREE_KEYS)

    class NodeFocused(Message):
        """The tree cursor is on ``node``: highlight its FP and FN bands."""

        def __init__(self, node: int) -> None:
            super().__init__()
            self.node = node

    class ZoomRequested(Message):
        """Enter on ``node``: zoom the matrix to it."""

        def __init__(self, node: int) -> None:
            super().__init__()
            self.node = node

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("classes", data=0, id=id)
        self.guide_depth = 2
        self.auto_expand = False
        self.classes_tree: ClassTree | None = None
        self.values = np.zeros(0)
        self.delta = False
        self._items: dict[int, TreeNode[int]] = {}

    # -- content from the app --------------------------------------------------------
    def show_tree(self, tree: ClassTree, values: np.ndarray, delta: bool, open_path: list[int],
                  cursor: int | None) -> None:
        """Show a (new) display tree, open along ``open_path`` and put the cursor on ``cursor``."""
        self.classes_tree, self.values, self.delta = tree, values, delta
        self.clear()
        self.root.data = tree.root
        self._items = {tree.root: self.root}
        self.root.set_label(self._label(tree.root))
        self._load(self.root)
        self.root.expand()
        self.open_path(open_path)
        if cursor is not None:
            self.put_cursor(cursor)

    def show_values(self, values: np.ndarray, delta: bool) -> None:
        """New metric values for the same tree: relabel the loaded nodes."""
        self.values, self.delta = values, delta
        self._relabel()

    def open_path(self, path: list[int]) -> None:
        """Expand every node on ``path`` (display nodes, root first), loading children as needed."""
        for node in path:
            found = self._items.get(node)
            if found is not None and found.allow_expand and not found.is_expanded:
                self._load(found)
                found.expand()  # costs a layout pass, so only when it changes something

    def put_cursor(self, node: int) -> None:
        """Move the cursor to a display node, opening its ancestors first."""
        if self.classes_tree is None:
            return
        self.open_path(self.classes_tree.path(node)[:-1])
        found = self._items.get(node)
        if found is not None:
            _ = self.last_line  # lays out the lines so the node knows where it is
            self.move_cursor(found)

    # -- labels and lazy loading ------------------------------------------------------
    def _label(self, node: int) -> Text:
        tree = self.classes_tree
        assert tree is not None
        guide = int(tree.depth[node]) * self.guide_depth + (0 if tree.is_leaf(node) else 2)
        value = float(self.values[node]) if len(self.values) > node else float("nan")
        return node_label(tree.names[node], tree.size(node), value, self.delta, self.size.width - guide - 2,
                          len(str(tree.n_classes)))

    def _relabel(self) -> None:
        if self.classes_tree is None:
            return
        with self.app.batch_update():
            for node, tree_node in self._items.items():
                tree_node.set_label(self._label(node))

    def _load(self, tree_node: TreeNode[int]) -> None:
        tree = self.classes_tree
        if tree is None or tree_node.children or tree_node.data is None:
            return
        for child in tree.children(tree_node.data):
            label = self._label(child)
            if tree.is_leaf(child):
                added = tree_node.add_leaf(label, data=child)
            else:
                added = tree_node.add(label, data=child, allow_expand=True)
            self._items[child] = added

    def on_resize(self) -> None:
        self._relabel()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[int]) -> None:
        self._load(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.NodeFocused(event.node.data))

    def on_tree_node_selected(self, event: Tree.NodeSelected[int]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ZoomRequested(event.node.data))

    # -- vim-style moves ---------------------------------------------------------------
    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_expand_or_child(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            self._load(node)
            node.expand()
        elif node.children:
            _ = self.last_line
            self.move_cursor(node.children[0])
