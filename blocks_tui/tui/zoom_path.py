"""Where the user is in the hierarchy: the zoom steps from the root to the window on screen.

Each step is a base node (kept by base id, so a re-sort of the display tree
leaves the path alone) or a range of display positions (a partition block,
which no node covers).  The window, its child blocks and the breadcrumb are
read from the last step.  Textual-free, like the model it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.view_tree import child_blocks, covering_node

if TYPE_CHECKING:
    from .model import ViewerModel


@dataclass
class Zoom:
    """One step of the zoom path: a base node, or a range of display positions (a partition block)."""

    node: int | None
    start: int = 0
    stop: int = 0
    blocks: list[tuple[int, int]] | None = None  # partition blocks drawn instead of the children
    label: str = ""


class ZoomPath:
    """The zoom steps of one :class:`~blocks_tui.tui.model.ViewerModel` (display node numbers in and out)."""

    def __init__(self, model: "ViewerModel", root: int) -> None:
        self.model = model
        self.steps = [Zoom(root)]

    # -- reading the window ---------------------------------------------------------------
    def window(self) -> tuple[int, int]:
        """The display positions ``[start, stop)`` on screen."""
        z = self.steps[-1]
        if z.node is None:
            return z.start, z.stop
        d = self.model.to_display(z.node)
        return int(self.model.display.start[d]), int(self.model.display.stop[d])

    def blocks(self) -> list[tuple[int, int]]:
        """The child blocks of the window: partition blocks if drawn, else the node's children."""
        z = self.steps[-1]
        if z.blocks is not None:
            return z.blocks
        if z.node is None:
            return [(z.start, z.stop)]
        return child_blocks(self.model.display, self.model.to_display(z.node))

    def node(self) -> int:
        """The display node the window belongs to (the covering node for a partition block)."""
        z = self.steps[-1]
        if z.node is not None:
            return self.model.to_display(z.node)
        return covering_node(self.model.display, z.start, z.stop)

    def breadcrumb(self) -> list[str]:
        names = self.model.display.names
        return [z.label or names[self.model.to_display(z.node)] for z in self.steps]  # type: ignore[arg-type]

    def nodes(self) -> list[int | None]:
        """Display node of each step (None for a partition block)."""
        return [None if z.node is None else self.model.to_display(z.node) for z in self.steps]

    def seriation_target(self) -> int | None:
        """The base node a seriation would replace, or None for a partition block."""
        return self.steps[-1].node

    # -- moving ---------------------------------------------------------------------------
    def into_cell(self, row_bin: int, col_bin: int) -> str | None:
        """Zoom into the diagonal child block under a matrix cell; returns why not, or None when it zoomed."""
        frame = self.model.drawn_frame()
        block_row, block_col = int(frame.block[row_bin]), int(frame.block[col_bin])
        if block_row != block_col:  # the two lie in different child blocks: only the window holds both
            info = self.model.cell_info(row_bin, col_bin)
            where = self.breadcrumb()[-1]
            return (f"{info.true} and {info.predicted} meet only in {where}, no smaller block holds both; "
                    "the pane shows this cell's samples")
        return self.into_block(block_row)

    def into_position(self, position: int) -> str | None:
        """Zoom into the child block holding a display position (Enter on a response map row)."""
        starts = [a for a, _ in self.blocks()]
        return self.into_block(max(0, int(np.searchsorted(starts, position, side="right")) - 1))

    def into_block(self, block_row: int) -> str | None:
        """Zoom into child block ``block_row`` of the window; returns why not, or None when it zoomed."""
        blocks = self.blocks()
        a, b = blocks[block_row]
        if len(blocks) == 1 and (a, b) == self.window():
            return "this block has no sub-blocks; press b to partition it"
        if b - a < 2:
            if len(self.steps) == 1 and max(y - x for x, y in blocks) < 2:  # a flat cache: no groups at all
                return "no hierarchy here: b partitions the classes into blocks, s seriates them into a hierarchy"
            return "a single class: nothing to zoom into"
        z, m = self.steps[-1], self.model
        if z.blocks is None and z.node is not None:
            child = m.display.children(m.to_display(z.node))[block_row]
            self.steps.append(Zoom(m.to_base(child)))
        else:
            self.steps.append(Zoom(None, a, b, label=f"block {block_row + 1}"))
        m.clamp_cursor()
        return None

    def out(self) -> bool:
        """One step up; False at the root."""
        if len(self.steps) == 1:
            return False
        self.steps.pop()
        self.model.outlier_steps.forget()
        return True

    def to_top(self) -> None:
        """Back to the root."""
        del self.steps[1:]
        self.model.outlier_steps.forget()

    def to(self, display_node: int) -> None:
        """Zoom along the hierarchy to a node (its parent, with the cursor on it, for a single class)."""
        m = self.model
        node = display_node
        if m.display.size(node) < 2 and m.display.parent[node] >= 0:
            node = int(m.display.parent[node])
            p = int(m.display.start[display_node])
            m.cursor = (p, p)
        self.steps = [Zoom(m.to_base(n)) for n in m.display.path(node)]
        m.clamp_cursor()

    def reveal(self, display_node: int) -> None:
        """Zoom out until the window holds the whole node."""
        self.hold(int(self.model.display.start[display_node]), int(self.model.display.stop[display_node]))

    def hold(self, first: int, stop: int) -> None:
        """Zoom out until the window holds display positions ``first .. stop - 1`` (or is the whole tree)."""
        start, end = self.window()
        while not (start <= first and stop <= end) and self.out():
            start, end = self.window()

    # -- partitions -----------------------------------------------------------------------
    def partition(self, blocks: list[tuple[int, int]] | None) -> None:
        """Draw (and zoom along) partition blocks, given relative to the window; None restores the children."""
        start, _ = self.window()
        self.steps[-1].blocks = None if blocks is None else [(a + start, b + start) for a, b in blocks]
        self.model.outlier_steps.forget()

    def drop_partitions(self) -> None:
        """Partition blocks are positions of one display order: a new order drops them and their steps."""
        self.steps = [z for z in self.steps if z.node is not None]
        for z in self.steps:
            z.blocks = None
