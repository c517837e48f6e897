"""The slow half of the viewer's work: what runs in a worker thread.

A filter change needs a pass over every sample, seriation and partitioning
need seconds at 1000 classes.  Each is a pure function here that returns a
small result object; :class:`~blocks_tui.tui.model.ViewerModel` installs it
on the main thread in O(classes + non-zero cells) at most.  Nothing here touches the model,
so a worker can never leave it half-updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..analysis import (
    ConfusionFilter,
    FilteredConfusion,
    build_hierarchy,
    filtered_confusion,
    rank_change,
)
from ..analysis.cells import CellCounts
from ..analysis.partitioning import COARSE_BINS, coarse_partition
from ..analysis.similarity import cells_similarity
from ..analysis.metrics import GroupMetrics, MetricChange, group_metrics
from ..analysis.hierarchy import Tree
from ..analysis.view_tree import contract_chains, graft


class ResultArrays(Protocol):
    """What the model reads from one result set (``blocks_tui.cache.ResultSet`` has it)."""

    topk_index: np.ndarray
    topk_prob: np.ndarray
    true_prob: np.ndarray


class CacheLike(Protocol):
    """The parts of :class:`blocks_tui.cache.Cache` the viewer uses."""

    labels: np.ndarray
    class_names: list[str]
    result_names: list[str]

    @property
    def hierarchy(self): ...  # noqa: ANN201 - HierarchyArrays

    def result(self, name: str) -> ResultArrays: ...


class Handoff:
    """A job's work, and then its result, each handed over once and then let go.

    A finished Textual ``Worker`` keeps the callable it ran and the value it
    returned, and sits in a reference cycle (worker → task → context →
    worker) that only Python's full collections break.  A 600 MB response
    layer stayed in memory that way after the viewer had dropped it.  The
    worker runs this object instead: it forgets the work when it starts and
    the result when :meth:`take` hands it over, so the worker pins nothing.
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work: Callable[[], Any] | None = work
        self._result: Any = None

    def __call__(self) -> "Handoff":
        work, self._work = self._work, None
        if work is not None:
            self._result = work()
        return self

    def take(self) -> Any:
        """The result, once; the handoff keeps no reference to it."""
        result, self._result = self._result, None
        return result

    def drop(self) -> None:
        """A cancelled job: let go of whatever it holds (a result may still arrive, and is dropped then)."""
        self._work = self._result = None


@dataclass(frozen=True)
class Filters:
    """Which samples and cells the matrix shows, and which result sets it comes from.

    Sample filters (``top_k``, the probability ranges, the result sets)
    need a pass over samples; cell filters (``diagonal``, ``min_count``) only
    touch the matrix's non-zero cells, so toggling them is instant.
    """

    result: str
    compare: str | None = None
    diagonal: bool = False
    min_count: int = 0
    top_k: int | None = None
    predicted_prob: tuple[float, float] | None = None
    true_prob: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.min_count < 0:
            raise ValueError(f"the minimum count must be 0 or more, got {self.min_count}")
        self.sample_filter()  # raises ValueError naming a bad value

    def sample_filter(self) -> ConfusionFilter:
        return ConfusionFilter(top_k=self.top_k, predicted_prob=self.predicted_prob, true_prob=self.true_prob)

    def sample_key(self) -> tuple[object, ...]:
        """Everything that needs a new pass over samples when it changes."""
        return (self.result, self.compare, self.top_k, self.predicted_prob, self.true_prob)

    def describe(self) -> list[str]:
        """Short phrases for the header, one per filter that is not at its default."""
        out = [] if self.diagonal else ["no diagonal"]
        if self.min_count > 1:
            out.append(f"count ≥ {self.min_count}")
        if self.top_k is not None:
            out.append(f"top-{self.top_k} errors")
        if self.predicted_prob is not None:
            out.append(f"p(pred) {self.predicted_prob[0]:g}–{self.predicted_prob[1]:g}")
        if self.true_prob is not None:
            out.append(f"p(true) {self.true_prob[0]:g}–{self.true_prob[1]:g}")
        return out


@dataclass(frozen=True)
class SampleData:
    """The result of one pass over samples: the active result set's cells and the (label, top-1) pairs of
    both result sets, which the group metrics are counted from."""

    filters: Filters
    kept: int  # samples that passed the sample filters
    index: FilteredConfusion  # the active result set's non-zero cells (diagonal kept) and their samples
    pairs: tuple[np.ndarray, np.ndarray]  # (label, top-1) of the samples kept, for the group metrics
    compare_pairs: tuple[np.ndarray, np.ndarray] | None = None


def compute_sample_data(cache: CacheLike, filters: Filters) -> SampleData:
    """One vectorised pass over the samples (milliseconds at 50k); run it in a worker."""
    n = len(cache.class_names)
    flt = filters.sample_filter()

    def confusion_of(name: str) -> tuple[FilteredConfusion, tuple[np.ndarray, np.ndarray]]:
        r = cache.result(name)
        found = filtered_confusion(cache.labels, r.topk_index, n, flt, r.topk_prob, r.true_prob)
        return found, kept_pairs(cache.labels, r.topk_index, found.mask)

    active, pairs = confusion_of(filters.result)
    compare_pairs = confusion_of(filters.compare)[1] if filters.compare else None
    return SampleData(filters, int(active.mask.sum()), active, pairs, compare_pairs)


def kept_pairs(labels: np.ndarray, topk_index: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label, top-1 prediction) of the samples a filter kept: what group metrics are counted from."""
    return np.asarray(labels)[mask], np.asarray(topk_index)[mask, 0]


@dataclass(frozen=True)
class Seriated:
    """A seriation of one node's classes, grafted into the base tree, with the new tree's group metrics.

    All of it is computed in a worker: at 10,000 classes grafting and
    counting the metrics again take 0.3 s, which the UI thread would freeze
    for.  ``counted_from`` is the (label, top-1) pairs the metrics came
    from; the model counts again only if a filter changed them meanwhile.
    """

    node: int  # base node that was seriated
    method: str
    tree: Tree  # the base tree with that node's subtree replaced, single-child chains contracted
    metrics: GroupMetrics
    compare_metrics: GroupMetrics | None
    counted_from: tuple[np.ndarray, np.ndarray]


def compute_partition(cells: CellCounts, classes: np.ndarray, n_blocks: int | None) -> list[tuple[int, int]]:
    """Blocks of the seriated window of ``classes``: ``n_blocks`` of them, or the modularity-best count for
    None.  ``cells`` are the model's counts, never changed in place, so a worker may read them.  The
    similarity is sparse and the DP runs on at most 1,024 bins (exact up to that many classes)."""
    n = len(classes)
    if n_blocks is not None and not 1 <= n_blocks <= min(n, COARSE_BINS):
        raise ValueError(f"the number of blocks must lie in [1, {min(n, COARSE_BINS)}]")
    return coarse_partition(cells_similarity(cells, classes), n_blocks)


def compute_seriation(
    node: int,
    classes: np.ndarray,
    cells: CellCounts,
    class_names: Sequence[str],
    method: str,
    base: Tree,
    pairs: tuple[np.ndarray, np.ndarray],
    compare_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> Seriated:
    """Recursive seriation of a node's classes on the sparse similarity of their confusions, grafted into
    ``base`` (seconds at 1000 classes, 6 s at 10,000: a worker's job).  ``base`` and the pairs are the
    model's, which it replaces rather than changes, so the worker reads them safely."""
    built = build_hierarchy(cells_similarity(cells, classes), [class_names[c] for c in classes], method=method)
    class_index = np.where(built.class_index >= 0, classes[np.maximum(built.class_index, 0)], -1)
    tree = contract_chains(graft(base, node, built.names, built.parent, class_index))[0]
    compare = group_metrics(tree, *compare_pairs) if compare_pairs else None
    return Seriated(node, method, tree, group_metrics(tree, *pairs), compare, pairs)


@dataclass(frozen=True)
class ChangeRanking:
    """Every node's change in a group metric from result set ``before`` to ``after``, biggest drop first."""

    before: str
    after: str
    metric: str
    change: MetricChange  # over the nodes of the tree it was computed on


def compute_changes(cache: CacheLike, tree: Tree, filters: Filters, before: str, after: str,
                    metric: str) -> ChangeRanking:
    """Two passes over samples under the current sample filters, then the paper's Fig. 8/9 ranking of
    the groups (nodes of two or more classes; the tree shows every class's change)."""
    n = len(cache.class_names)
    flt = filters.sample_filter()

    def metrics_of(name: str) -> Any:
        r = cache.result(name)
        mask = filtered_confusion(cache.labels, r.topk_index, n, flt, r.topk_prob, r.true_prob).mask
        return group_metrics(tree, *kept_pairs(cache.labels, r.topk_index, mask))

    change = rank_change(tree, metrics_of(before), metrics_of(after), metric, min_classes=2)
    return ChangeRanking(before, after, metric, change)


def compute_outlier_rows(cache: CacheLike, tree: Tree, result: str, limit: int = 500) -> list[Any]:
    """The ranked block outliers of one result set (the ``o`` panel); ~0.1 s at 1000 classes."""
    from ..analysis.triage import rank_outliers

    r = cache.result(result)
    return rank_outliers(tree, cache.labels, r.topk_index, r.topk_prob, limit=limit)


def compute_mislabel_rows(cache: CacheLike, result: str, limit: int = 500) -> list[Any]:
    """The samples most likely mislabeled under one result set (the ``m`` panel); ~0.2 s at 50k."""
    from ..analysis.triage import rank_mislabels

    r = cache.result(result)
    return rank_mislabels(cache.labels, r.topk_index, r.topk_prob, r.true_prob, limit=limit)
