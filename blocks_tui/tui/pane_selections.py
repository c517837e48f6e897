"""What the sample pane can show, built from the model: a cell's samples, a node's TP/FN/FP, a ranked list.

Every selection passes through the pane's right/wrong filter
(:data:`~blocks_tui.tui.samples.OUTCOME_FILTERS`), which compares the active
result set with the compared one, or with every chosen result set; only a
sample asked for by id is shown regardless.  Textual-free: the selection
flow hands what these return to the pane widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from ..analysis.filters import GROUP_PARTS
from ..errors import CacheError
from ..numbers import metrics_line
from .jobs import CacheLike
from .samples import OutcomeSets, SampleDetails, Selection, filter_outcomes, sample_details

if TYPE_CHECKING:
    from .model import ViewerModel


class PaneSelections:
    """Selections of one :class:`~blocks_tui.tui.model.ViewerModel` (display node numbers)."""

    def __init__(self, model: "ViewerModel") -> None:
        self.model = model
        self.outcome_filter = "all"  # one of OUTCOME_FILTERS
        self.chosen_sets: tuple[str, ...] | None = None  # the result sets the agreement filters span; None: all
        self.problem: str | None = None  # the last damage a lazy read found (one line), for the status line

    def cell(self, row_bin: int, col_bin: int) -> Selection:
        """The samples behind the cell (or bin) under the cursor, exactly those its count counts."""
        m = self.model
        info = m.cell_info(row_bin, col_bin)
        order = m.display.order
        title = f"{info.true} → {info.predicted}"
        if info.hidden:  # a blank diagonal cell: the samples it holds, then its classes' errors
            classes = order[slice(*info.rows)]
            right, wrong = m.index.group_samples(classes, "tp"), m.index.group_samples(classes, "fn")
            note = f"{len(right):,} here + {len(wrong):,} errors"  # the status line says the diagonal is hidden
            return self._filtered(Selection("cell", title, np.concatenate([right, wrong]),
                                            key=(info.rows, info.columns), note=note))
        ids = m.index.block_samples(order[slice(*info.rows)], order[slice(*info.columns)], shown=m.shown)
        return self._filtered(Selection("cell", title, ids, key=(info.rows, info.columns)))

    def node(self, display_node: int, part: int = 0) -> Selection:
        """A tree node's TP, FN or FP samples (``part`` indexes GROUP_PARTS), with the three as tabs."""
        m = self.model
        a, b = int(m.display.start[display_node]), int(m.display.stop[display_node])
        stats = m.node_stats(display_node)
        tabs = (("TP", stats.tp), ("FN", stats.fn), ("FP", stats.fp))
        ids = m.index.group_samples(m.display.order[a:b], GROUP_PARTS[part % 3])
        note = metrics_line(stats.precision, stats.recall, stats.f1)
        return self._filtered(Selection("node", m.display.names[display_node], ids, tabs, part % 3,
                                        key=(m.to_base(display_node),), note=note))

    def ranked(self, kind: str, title: str, ids: np.ndarray) -> Selection:
        """A ranked list from elsewhere (a neuron's top samples, mislabel candidates), best first."""
        ids = np.asarray(ids, dtype=np.int64)
        return self._filtered(Selection(kind, title, ids, key=(title, ids)))

    def sample(self, sample: int) -> Selection:
        """One sample, asked for by id: shown even when the right/wrong filter would leave it out."""
        m = self.model
        names = m.cache.class_names
        label, predicted = int(m.cache.labels[sample]), m.predicted(sample)
        return Selection("sample", f"#{sample}: labelled {names[label]}, predicted {names[predicted]}",
                         np.array([sample], dtype=np.int64), key=("sample", sample))

    def _filtered(self, selection: Selection) -> Selection:
        return filter_outcomes(selection, self.outcome_filter, self.outcome_sets())

    def outcome_sets(self) -> OutcomeSets:
        """The active, compared and chosen result sets, as the right/wrong filter reads them."""
        m = self.model
        names = list(m.cache.result_names)
        active = m.filters.result
        chosen = [n for n in (self.chosen_sets or names) if n in names and n != active]
        return OutcomeSets(m.cache.labels, active, m.filters.compare, (active, *chosen),
                           every=len(chosen) + 1 == len(names), predicted=lambda name: m.cache.result(name).predicted)

    def cycle_outcome_filter(self) -> str:
        """The next filter that means something with these result sets (:meth:`OutcomeSets.modes`): all →
        right here and wrong in the compared set → the reverse → right in all → wrong in all → right only
        here → wrong only here → all."""
        modes = self.outcome_sets().modes()
        at = modes.index(self.outcome_filter) if self.outcome_filter in modes else 0
        self.outcome_filter = modes[(at + 1) % len(modes)]
        return self.outcome_filter

    def choose_sets(self, names: tuple[str, ...] | None) -> None:
        """Span the agreement filters over ``names`` (None or every set: all of them)."""
        every = names is None or set(names) >= set(self.model.cache.result_names)
        self.chosen_sets = None if every else tuple(names or ())
        if self.outcome_filter not in self.outcome_sets().modes():
            self.outcome_filter = "all"

    def details(self, sample: int) -> SampleDetails:
        """The details pane's lines for ``sample``.

        They read every result set and the sources, most for the first time
        here, on the main thread, on every cursor move: a damaged one (found
        only now, since open reads no more than it must) is left out and
        :attr:`problem` says why, rather than raising into the pane.
        """
        m = self.model
        try:
            return sample_details(m.cache, sample, m.filters.result, m.cache.class_names)
        except CacheError as exc:
            self.problem = str(exc)
            return sample_details(_Readable(m.cache), sample, m.filters.result, m.cache.class_names)


class _Readable:
    """The parts of a cache that read: result sets whose arrays fail are left out, unreadable sources are blank."""

    def __init__(self, cache: CacheLike) -> None:
        self._cache = cache
        self.labels = cache.labels
        self.result_names = [name for name in cache.result_names if _reads(lambda: cache.result(name).topk_index)]
        self.sources: list[str] = getattr(cache, "sources", []) if _reads(lambda: getattr(cache, "sources", [])) else []

    def result(self, name: str) -> object:
        return self._cache.result(name)


def _reads(read: Callable[[], object]) -> bool:
    """Whether ``read()`` gets through without the cache turning out damaged."""
    try:
        read()
    except CacheError:
        return False
    return True
