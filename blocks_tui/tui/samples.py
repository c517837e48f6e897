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

from ..analysis.sample_selection import OUTCOMES, SampleGroups, outcome_change, outcomes

OUTCOME_MARK = dict(zip(OUTCOMES, ("✓", "≈", "✗")))
"""How the pane marks an outcome: top-1 right, in the top 5, wrong."""

OUTCOME_FILTERS = ("all", "right-then-wrong", "wrong-then-right")
"""The pane's result-set filter: every sample, those top-1 right in the active result set and wrong in the
compared one, or the reverse."""


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


def filter_outcomes(selection: Selection, mode: str, labels: np.ndarray, topk_a: np.ndarray,
                    topk_b: np.ndarray | None, names: tuple[str, str | None]) -> Selection:
    """The selection narrowed to samples whose top-1 outcome differs between result sets A and B."""
    if mode == "all" or topk_b is None:
        return selection
    right_in_a = mode == "right-then-wrong"
    ids = outcome_change(labels, topk_a, topk_b, selection.ids, right_in_a=right_in_a)
    a, b = names
    what = f"right in {a}, wrong in {b}" if right_in_a else f"wrong in {a}, right in {b}"
    return replace(selection, title=f"{selection.title} · {what}", ids=ids)


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
