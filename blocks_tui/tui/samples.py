"""What the sample pane shows, Textual-free: a ranked selection of sample ids and each sample's details.

The model builds a :class:`Selection` for a matrix cell, a tree node's TP,
FN or FP samples, a neuron's top samples or the mislabel candidates; the
pane groups it by true class (:func:`~blocks_tui.analysis.sample_selection.group_by_class`)
and decodes only the thumbnails on screen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np
from rich.cells import cell_len

from ..analysis.sample_selection import AGREEMENTS, OUTCOMES, SampleGroups, outcome_agreement, outcomes

OUTCOME_MARK = dict(zip(OUTCOMES, ("✓", "≈", "✗")))
"""How the pane marks an outcome: top-1 right, in the top 5, wrong."""

PAIR_FILTERS = ("right-then-wrong", "wrong-then-right")
OUTCOME_FILTERS = ("all", *PAIR_FILTERS, *AGREEMENTS)
"""The pane's result-set filter: every sample; those top-1 right in the active result set and wrong in the
compared one, or the reverse; right in every chosen result set, wrong in every one, right only in the
active one, wrong only in it."""


@dataclass(frozen=True)
class OutcomeSets:
    """The result sets the pane's right/wrong filter reads.

    ``chosen`` are the sets the agreement filters span, the active one first;
    ``every`` says they are all the cache holds (the titles then count them
    instead of naming them).  ``predicted`` reads a set's top-1 classes.
    """

    labels: np.ndarray
    active: str
    compare: str | None
    chosen: tuple[str, ...]
    every: bool
    predicted: Callable[[str], np.ndarray]

    def modes(self) -> list[str]:
        """The filters that mean something here, in ``x``'s order: the pair ones need a compared set, the
        agreement ones two chosen sets; 'only here' is left out where it would repeat a pair filter."""
        out = ["all"]
        if self.compare is not None:
            out += PAIR_FILTERS
        if len(self.chosen) >= 2:
            pair = self.compare is not None and set(self.chosen) == {self.active, self.compare}
            out += [m for m in AGREEMENTS if not (pair and m.endswith("only-here"))]
        return out

    def words(self, mode: str) -> str:
        """What ``mode`` keeps, for the pane's title: ``right in all 9 result sets``."""
        a, b = self.active, self.compare
        if self.every:
            sets = f"all {len(self.chosen)} result sets"
        else:
            sets = ", ".join(self.chosen) if len(self.chosen) <= 3 else f"{len(self.chosen)} chosen result sets"
        return {
            "right-then-wrong": f"right in {a}, wrong in {b}",
            "wrong-then-right": f"wrong in {a}, right in {b}",
            "right-in-all": f"right in {sets}",
            "wrong-in-all": f"wrong in {sets}",
            "right-only-here": f"right only in {a}, of {sets}",
            "wrong-only-here": f"wrong only in {a}, of {sets}",
        }[mode]


@dataclass(frozen=True)
class Selection:
    """A ranked list of sample ids and what they are.

    ``tabs`` (label, count) are the alternatives the pane can switch
    between (a node's TP, FN and FP), ``tab`` the one shown.
    """

    kind: str
    title: str
    ids: np.ndarray
    tabs: tuple[tuple[str, int], ...] = ()
    tab: int = 0
    key: tuple[Any, ...] = field(default=(), compare=False)  # what was selected, to rebuild it after a change
    note: str = ""  # one more line about it (a node's metrics)


@dataclass(frozen=True)
class SampleDetails:
    """One sample, for the pane's details lines."""

    sample: int
    source: str
    true: str
    top: list[tuple[str, float]]  # top-5 predictions of the active result set
    outcomes: list[tuple[str, str]]  # (result set, outcome) for every result set
    active: str = ""  # the active result set


@dataclass(frozen=True)
class FittedOutcomes:
    """Outcomes laid out for a few lines: ``rows`` of (result set, outcome), then ``rest`` summed up."""

    rows: list[list[tuple[str, str]]]
    rest: Counter[str]  # outcome → how many result sets that did not fit have it

    @property
    def summary(self) -> str:
        """``+12 ✓9 ≈2 ✗1`` for the result sets left out; empty when all fit."""
        return _summary(self.rest)


def _summary(rest: Counter[str]) -> str:
    if not rest:
        return ""
    return f"+{sum(rest.values())}" + "".join(f" {OUTCOME_MARK[o]}{rest[o]}" for o in OUTCOMES if rest[o])


def fit_outcomes(outcomes: Sequence[tuple[str, str]], active: str, width: int, lines: int) -> FittedOutcomes:
    """Each result set's outcome as ``✓ name`` entries, two cells apart, in at most ``lines`` lines of
    ``width`` cells: the active result set first, then cache order.

    A cache from ``blocks-tui train`` holds a result set per epoch and model, far more than the pane's
    two lines, so what does not fit is counted instead, in a summary at the end of the last line.  An
    entry wider than a line is cut to the line (the caller truncates the name).
    """
    ordered = sorted(outcomes, key=lambda entry: entry[0] != active)  # stable: the rest keep cache order
    widths = [min(width, 2 + cell_len(name)) for name, _ in ordered]

    def layout(kept: int, tail: int) -> tuple[list[list[tuple[str, str]]] | None, int]:
        """Rows holding the first ``kept`` entries and a ``tail``-cell summary (0: none), or None; and how
        many entries were placed before running out of lines."""
        rows: list[list[tuple[str, str]]] = [[]]
        used = 0
        for i, w in enumerate(widths[:kept] + ([tail] if tail else [])):
            need = w + (2 if used else 0)
            if used + need > width:
                if len(rows) == lines or w > width:
                    return None, i
                rows.append([])
                used, need = 0, w
            if i < kept:
                rows[-1].append(ordered[i])
            used += need
        return rows, kept

    full, most = layout(len(ordered), 0)
    if full is not None:
        return FittedOutcomes(full, Counter())
    for kept in range(min(most, len(ordered) - 1), -1, -1):  # more than fit without a summary cannot fit with one
        rest = Counter(outcome for _, outcome in ordered[kept:])
        rows, _ = layout(kept, cell_len(_summary(rest)))
        if rows is not None:
            return FittedOutcomes(rows, rest)
    return FittedOutcomes([[]], Counter(outcome for _, outcome in ordered))  # not even the summary fits


def filter_outcomes(selection: Selection, mode: str, sets: OutcomeSets) -> Selection:
    """The selection narrowed to the samples whose top-1 outcomes across result sets match ``mode``
    (:data:`OUTCOME_FILTERS`); unchanged for ``all`` or a mode these sets cannot serve."""
    if mode == "all" or mode not in sets.modes():
        return selection
    names, agreement = sets.chosen, mode
    if mode in PAIR_FILTERS:  # the agreement of two sets: right (or wrong) only in the active one
        assert sets.compare is not None
        names = (sets.active, sets.compare)
        agreement = "right-only-here" if mode == "right-then-wrong" else "wrong-only-here"
    ids = outcome_agreement(sets.labels, [sets.predicted(name) for name in names], 0, selection.ids, agreement)
    return replace(selection, title=f"{selection.title} · {sets.words(mode)}", ids=ids)


def sample_details(cache: Any, sample: int, active: str, class_names: Sequence[str]) -> SampleDetails:
    """The true class, the active result set's top 5 with probabilities, and the outcome in every result set."""
    label = int(cache.labels[sample])
    result = cache.result(active)
    index, prob = result.topk_index[sample], result.topk_prob[sample]
    top = [(class_names[int(c)], float(p)) for c, p in zip(index[:5], prob[:5]) if c >= 0]
    sources = cache.sources
    marks = []
    for name in cache.result_names:
        code = int(outcomes(cache.labels, cache.result(name).topk_index, np.array([sample]))[0])
        marks.append((name, OUTCOMES[code]))
    return SampleDetails(sample, sources[sample] if sample < len(sources) else "", class_names[label], top, marks,
                         active)


@dataclass(frozen=True)
class PaneContent:
    """A selection ready to draw, with the callbacks that read samples on demand."""

    selection: Selection
    groups: SampleGroups
    class_names: list[str]
    outcome_of: Callable[[np.ndarray], np.ndarray]  # ids → outcome codes (OUTCOMES)
    thumbnails: Callable[[np.ndarray], np.ndarray]  # ascending ids → (n, H, W, 3) uint8
    details: Callable[[int], SampleDetails]
