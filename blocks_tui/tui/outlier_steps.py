"""n / N: the block outliers of the window on screen, in the order the outliers panel (o) ranks them.

One ranking drives both: :func:`~blocks_tui.analysis.triage.rank_outliers`
over the active result set and the base tree, the class pairs confused
across the hierarchy's blocks, most surprising first.  ``n`` steps through
the pairs whose two classes lie in the window.  The ranking is
O(classes + samples · log samples) once per result set and tree, so the viewer computes
it in a worker (:func:`~blocks_tui.tui.jobs.compute_outlier_rows`) and hands
it over with :meth:`OutlierSteps.set_ranking`; stepping is then O(1) per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from .jobs import compute_outlier_rows

if TYPE_CHECKING:
    from .model import ViewerModel

STEP_LIMIT = 5000
"""Pairs ranked for n / N: deep windows of a 1000-class cache still find theirs beyond the panel's 500."""


@dataclass(frozen=True)
class OutlierStep:
    """Where ``n``/``N`` moved the cursor: outlier ``index`` of ``total``."""

    index: int
    total: int
    true: str
    predicted: str
    count: int


class OutlierSteps:
    """The ranked pairs, those of the window, and the position of the last step through them."""

    def __init__(self, model: "ViewerModel") -> None:
        self.model = model
        self._ranking: tuple[tuple[object, ...], Sequence[Any]] | None = None  # (key, ranked rows)
        self._cells: tuple[tuple[object, ...], list[tuple[int, int, int]]] | None = None
        self._at = -1

    def ranking_key(self) -> tuple[object, ...]:
        """What the ranking depends on: the active result set and the base tree."""
        return self.model.filters.result, id(self.model.base)

    @property
    def ranked(self) -> bool:
        """Whether the ranking for the current result set and tree is in (else :meth:`cells` computes it)."""
        return self._ranking is not None and self._ranking[0] == self.ranking_key()

    def set_ranking(self, key: tuple[object, ...], rows: Sequence[Any]) -> None:
        """Install a ranking computed in a worker for ``key`` (:meth:`ranking_key` when it started)."""
        self._ranking = (key, rows)
        self.forget()

    def forget(self) -> None:
        """The window or its blocks changed: select its pairs again, and start from the first."""
        self._cells = None

    def cells(self) -> list[tuple[int, int, int]]:
        """The window's ranked pairs as ``(row position, column position, count)``, most surprising first."""
        m = self.model
        if not self.ranked:
            self.set_ranking(self.ranking_key(), compute_outlier_rows(m.cache, m.base, m.filters.result, STEP_LIMIT))
        start, stop = m.zoom.window()
        key = ((start, stop), self.ranking_key(), id(m.display))
        if self._cells is None or self._cells[0] != key:
            position = m.display.position
            assert self._ranking is not None
            cells = []
            for row in self._ranking[1]:
                r, c = int(position[row.true]), int(position[row.predicted])
                if start <= r < stop and start <= c < stop:
                    cells.append((r, c, int(row.count)))
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
