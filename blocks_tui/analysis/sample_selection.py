"""A selection's samples for the sample pane: outcomes, grouping by true class, result-set changes.

Finding a cell's or a group's samples is :class:`~blocks_tui.analysis.filters.FilteredConfusion`'s
job (its cell index makes that O(selection)); this module works on the
selected ids only, so nothing here passes over all samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OUTCOMES = ("top-1", "top-5", "wrong")
"""Outcome codes of :func:`outcomes`: 0 top-1 correct, 1 in the top 5 (top k when k < 5), 2 wrong."""


def outcomes(labels: np.ndarray, topk_index: np.ndarray, ids: np.ndarray, k: int = 5) -> np.ndarray:
    """(len(ids),) int8 outcome of each sample: 0 top-1 correct, 1 in the top ``k``, 2 wrong (see ``OUTCOMES``)."""
    ids = np.asarray(ids, dtype=np.int64)
    top = np.asarray(topk_index[ids] if len(ids) else np.zeros((0, 1), dtype=np.int64))[:, :k]
    truth = np.asarray(labels)[ids][:, None]
    hit = top == truth
    out = np.full(len(ids), 2, dtype=np.int8)
    out[hit.any(axis=1)] = 1
    if top.shape[1]:
        out[hit[:, 0]] = 0
    return out


@dataclass(frozen=True)
class SampleGroups:
    """A selection grouped by true class, biggest group first.

    ``classes``/``counts``/``representative`` are (groups,); ``members[g]``
    lists group g's sample ids in selection order, so the representative
    (its first member) is the selection's best-ranked sample of that class.
    """

    classes: np.ndarray
    counts: np.ndarray
    representative: np.ndarray
    members: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.classes)


def group_by_class(ids: np.ndarray, labels: np.ndarray) -> SampleGroups:
    """Group a selection's samples (in rank order) by true class; ties in size keep first appearance.

    ``labels`` is the cache's (samples,) label array.  O(n log n) in the
    selection's size.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SampleGroups(empty, empty, empty, [])
    cls = np.asarray(labels)[ids]
    by = np.argsort(cls, kind="stable")  # keeps selection order inside each class
    sorted_cls = cls[by]
    firsts = np.flatnonzero(np.r_[True, sorted_cls[1:] != sorted_cls[:-1]])
    counts = np.diff(np.r_[firsts, len(by)])
    first_seen = by[firsts]  # position in the selection of each class's first sample
    order = np.lexsort((first_seen, -counts))
    members = np.split(ids[by], firsts[1:])
    return SampleGroups(
        classes=sorted_cls[firsts][order].astype(np.int64),
        counts=counts[order].astype(np.int64),
        representative=ids[first_seen[order]],
        members=[members[i] for i in order],
    )


AGREEMENTS = ("right-in-all", "wrong-in-all", "right-only-here", "wrong-only-here")
"""How a sample's top-1 outcome agrees across several result sets (paper §3.4): right in every one, wrong
in every one, right in the active one only, wrong in the active one only."""


def outcome_agreement(labels: np.ndarray, predicted: Sequence[np.ndarray], active: int, ids: np.ndarray,
                      mode: str) -> np.ndarray:
    """The ids (in their given order) whose top-1 outcomes across result sets match ``mode`` (:data:`AGREEMENTS`).

    ``predicted`` holds each result set's (samples,) top-1 class, ``active``
    the position of the active one among them.  "Right only here" is right
    in the active set and wrong in every other: what this checkpoint or
    variant alone gets right.  O(len(ids) · sets).
    """
    if mode not in AGREEMENTS:
        raise ValueError(f"mode must be one of {', '.join(AGREEMENTS)}, got {mode!r}")
    if not 0 <= active < len(predicted):
        raise ValueError(f"active must index one of the {len(predicted)} result sets, got {active}")
    ids = np.asarray(ids, dtype=np.int64)
    truth = np.asarray(labels)[ids]
    right = np.stack([np.asarray(p)[ids] == truth for p in predicted]).reshape(len(predicted), len(ids))
    others = np.delete(right, active, axis=0)
    here = right[active]
    keep = {
        "right-in-all": right.all(axis=0),
        "wrong-in-all": ~right.any(axis=0),
        "right-only-here": here & ~others.any(axis=0),
        "wrong-only-here": ~here & others.all(axis=0),
    }[mode]
    return ids[keep]
