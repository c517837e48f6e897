"""Training dynamics (paper §4.1.1): when does each group become separable?

The paper observes that a CNN separates the coarse groups of the hierarchy
in its first epochs and the fine classes only later.  Given the predictions
of one model at several epochs, this module finds, for every hierarchy node,
the first epoch at which its group recall (Eq. 1) came within ``tolerance``
(5 points) of its final value.

Which result sets are epochs (see :func:`epoch_series`): a cache names its
checkpoints ``epoch-N`` (the demo writes one per epoch; ``extract
--result-name epoch-N`` appends them).  The final model is usually not an
``epoch-N`` set of its own: the demo stores it as ``original`` with an
``epoch`` attribute equal to the last epoch, and ``blocks-tui train`` writes
``baseline:epoch-N`` … with the final model as ``baseline``.  So a *series*
``S`` is the sets ``S:epoch-N`` plus ``S`` itself (for the empty series:
``epoch-N`` plus ``original``), the final set taking part when its
``epoch`` attribute is larger than every ``N``.  Without it, the largest
``N`` is the final model.

Per node the answer is noisy when a node has few samples, so
:class:`Settling` also reports each *level* as a whole: the recall of the
partition into the depth-``d`` groups (the sample-weighted mean of their
recalls; at the leaf level it is the top-1 accuracy).  Numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cache.result_names import epoch_name, parse_epoch, series_final
from .hierarchy import Tree
from .metrics import group_metrics

DEFAULT_TOLERANCE = 0.05
"""Five points of recall: "close to final" in the issue's wording."""


def epoch_series(
    names: Sequence[str], attrs_of: Callable[[str], Mapping[str, Any]], series: str = ""
) -> list[tuple[int, str]]:
    """``(epoch, result set name)`` pairs of one series, ascending; the last is the final model.

    ``names`` are a cache's result set names and ``attrs_of(name)`` their
    attributes (only the final set's ``epoch`` attribute is read).  Raises
    ValueError when the series has fewer than two epochs: a single epoch has
    no dynamics.
    """
    final = series_final(series)
    epochs: dict[int, str] = {}
    for name in names:
        number = parse_epoch(name, series)
        if number is not None and number not in epochs:
            epochs[number] = name
    if final in names:
        epoch = attrs_of(final).get("epoch")
        if isinstance(epoch, (int, np.integer)) and not isinstance(epoch, bool) and epoch > max(epochs, default=0):
            epochs[int(epoch)] = final
    if len(epochs) < 2:
        found = ", ".join(epochs.values()) or "none"
        pattern = epoch_name("N", series)
        raise ValueError(
            f"need at least two result sets named {pattern} (or {pattern} plus {final!r} with an "
            f"'epoch' attribute); found {found}"
        )
    return sorted(epochs.items())


@dataclass(frozen=True)
class Settling:
    """When each node's and each level's recall came close to its final value.

    ``epochs`` (E,) ascending, the last one the final model; ``recall`` (E,
    nodes) group recall per epoch (nan for nodes without samples);
    ``settled`` (nodes,) the first epoch with ``|recall - final| <=
    tolerance`` (-1 where recall is undefined).  ``level_recall`` (E,
    levels) and ``level_settled`` (levels,) are the same for the partition
    of the samples at each depth 1..max depth, the last level being the
    leaves (top-1 accuracy).
    """

    epochs: np.ndarray
    recall: np.ndarray
    settled: np.ndarray
    level_recall: np.ndarray
    level_settled: np.ndarray
    tolerance: float

    def median_settled(self, nodes: np.ndarray) -> float:
        """Median settling epoch over ``nodes`` that have one (nan when none)."""
        values = self.settled[np.asarray(nodes, dtype=np.int64)]
        values = values[values >= 0]
        return float(np.median(values)) if len(values) else float("nan")


def _first_close(values: np.ndarray, epochs: np.ndarray, tolerance: float) -> np.ndarray:
    """(E, m) values -> (m,) the first epoch within ``tolerance`` of the last row; -1 where nan."""
    close = np.abs(values - values[-1]) <= tolerance + 1e-12  # nan compares False
    first = np.argmax(close, axis=0)  # the last row is always close unless nan
    return np.where(close.any(axis=0), epochs[first], -1)


def settling_epochs(
    tree: Tree,
    labels: np.ndarray,
    predicted: Sequence[np.ndarray],
    epochs: Sequence[int],
    tolerance: float = DEFAULT_TOLERANCE,
) -> Settling:
    """Settling epochs of every node and level.

    ``labels`` (samples,) class indices; ``predicted`` one (samples,) top-1
    prediction per epoch, in the order of ``epochs`` (ascending, the last
    being the final model).  O(epochs × (classes² + nodes)).
    """
    epochs_arr = np.asarray(epochs, dtype=np.int64)
    if len(predicted) != len(epochs_arr) or len(epochs_arr) < 2:
        raise ValueError(f"need one prediction per epoch and two or more epochs, got {len(predicted)} and {len(epochs_arr)}")
    if np.any(np.diff(epochs_arr) <= 0):
        raise ValueError(f"epochs must be strictly ascending, got {epochs_arr.tolist()}")
    if not 0 <= tolerance <= 1:
        raise ValueError(f"tolerance must lie in [0, 1], got {tolerance}")
    max_depth = int(tree.depth.max())
    level_nodes = [np.unique(tree.ancestor_at_depth(d)) for d in range(1, max_depth + 1)]
    recall = np.empty((len(epochs_arr), tree.n_nodes))
    level_recall = np.empty((len(epochs_arr), max_depth))
    for e, pred in enumerate(predicted):
        m = group_metrics(tree, labels, pred)
        recall[e] = m.recall
        for level, nodes in enumerate(level_nodes):
            total = m.true_count[nodes].sum()
            level_recall[e, level] = m.tp[nodes].sum() / total if total else np.nan
    return Settling(
        epochs=epochs_arr,
        recall=recall,
        settled=_first_close(recall, epochs_arr, tolerance),
        level_recall=level_recall,
        level_settled=_first_close(level_recall, epochs_arr, tolerance),
        tolerance=tolerance,
    )


def level_groups(tree: Tree, level: int) -> np.ndarray:
    """Inner nodes at depth ``level``, in tree order (the groups :func:`dynamics_report` lists)."""
    return np.flatnonzero((tree.depth == level) & (tree.class_index < 0))


def dynamics_report(tree: Tree, settling: Settling, names: Sequence[str], level: int = 1) -> dict[str, Any]:
    """JSON-ready summary: the depth-``level`` groups, the leaf classes and every level.

    ``names`` are the result sets of ``settling.epochs``.  Recalls are
    rounded to 0.1 point; a settling epoch of -1 (no samples) becomes None.
    """
    def epoch(value: int) -> int | None:
        return int(value) if value >= 0 else None

    def percents(values: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(100 * float(v), 1) for v in values]

    leaves = np.flatnonzero(tree.class_index >= 0)
    leaf_epochs = settling.settled[leaves]
    leaf_epochs = leaf_epochs[leaf_epochs >= 0]
    max_depth = int(tree.depth.max())
    return {
        "epochs": settling.epochs.tolist(),
        "result_sets": list(names),
        "tolerance_points": round(100 * settling.tolerance, 3),
        "level": level,
        "groups": [
            {"name": tree.names[v], "classes": tree.size(v), "settled": epoch(settling.settled[v]),
             "recall": percents(settling.recall[:, v])}
            for v in level_groups(tree, level)
        ],
        "leaves": {
            "count": len(leaves),
            "median_settled": settling.median_settled(leaves) if len(leaf_epochs) else None,
            "quartiles_settled": [float(q) for q in np.percentile(leaf_epochs, [25, 75])] if len(leaf_epochs) else None,
            "settled": {tree.names[v]: epoch(settling.settled[v]) for v in leaves},
        },
        "levels": [
            {"depth": d, "leaves": d == max_depth, "settled": epoch(settling.level_settled[d - 1]),
             "median_node_settled": settling.median_settled(np.unique(tree.ancestor_at_depth(d))),
             "recall": percents(settling.level_recall[:, d - 1])}
            for d in range(1, max_depth + 1)
        ],
    }
