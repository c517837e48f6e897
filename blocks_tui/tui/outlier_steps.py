"""n / N: the block outliers of the window on screen, ranked once, and which one the cursor is on.

Ranked by :func:`~blocks_tui.analysis.block_outliers` (count, then surprise)
from the class × class matrix, once per window, blocks and filter; stepping
through them is then O(1) per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..analysis import block_outliers

if TYPE_CHECKING:
    from .model import ViewerModel


@dataclass(frozen=True)
class OutlierStep:
    """Where ``n``/``N`` moved the cursor: outlier ``index`` of ``total``."""

    index: int
    total: int
    true: str
    predicted: str
    count: int


class OutlierSteps:
    """The window's off-block cells and the position of the last step through them."""

    def __init__(self, model: "ViewerModel") -> None:
        self.model = model
        self._cells: tuple[tuple[object, ...], list[tuple[int, int, int]]] | None = None
        self._at = -1

    def forget(self) -> None:
        """The window, its blocks or the counts changed: rank again, and start from the first."""
        self._cells = None

    def cells(self) -> list[tuple[int, int, int]]:
        """Off-block cells of the window as ``(row position, column position, count)``, in rank order."""
        m = self.model
        start, stop = m.zoom.window()
        blocks = m.zoom.blocks()
        key = ((start, stop), tuple(blocks), id(m.pyramid))
        if self._cells is None or self._cells[0] != key:
            cells: list[tuple[int, int, int]] = []
            # Blocks of single classes make every confusion "off-block": no outliers then.
            if len(blocks) > 1 and max(b - a for a, b in blocks) > 1:
                idx = m.display.order[start:stop]
                found = block_outliers(m.shown[np.ix_(idx, idx)], [(a - start, b - start) for a, b in blocks])
                # found.true / .predicted index the window's rows, i.e. positions - start
                cells = [(int(r) + start, int(c) + start, int(n))
                         for r, c, n in zip(found.true, found.predicted, found.count)]
            self._cells = (key, cells)
            self._at = -1
        return self._cells[1]

    def step(self, step: int) -> OutlierStep | None:
        """Move the model's cursor to the next (``step=1``) or previous (-1) block outlier of the window."""
        cells = self.cells()
        if not cells:
            return None
        self._at = (0 if step > 0 else len(cells) - 1) if self._at < 0 else (self._at + step) % len(cells)
        r, c, n = cells[self._at]
        m = self.model
        m.cursor = (r, c)
        names, order = m.cache.class_names, m.display.order
        return OutlierStep(self._at + 1, len(cells), names[order[r]], names[order[c]], n)
