"""``blocks-tui bench analysis``: how fast the analysis is at ImageNet scale, against goals and scipy.

Times every operation the viewer runs on a key press or when a cache
opens, on arrays of the given size (the CLI makes them with
:mod:`blocks_tui.synthetic.scale`, so no GPU, torch or download is
needed), and compares optimal leaf ordering with
``scipy.cluster.hierarchy.optimal_leaf_ordering`` in the same run, on the
same linkage, reporting both orders' costs too (lower is better; scipy's
is not always optimal).  Each timing is the median of ``repeats`` runs.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy
from scipy.cluster import hierarchy as sch
from scipy.spatial.distance import squareform

from ..analysis.confusion import confusion_matrix
from ..analysis.filters import ConfusionFilter, filtered_confusion
from ..analysis.hierarchy import Tree
from ..analysis.hierarchy_builder import build_hierarchy
from ..analysis.leaf_ordering import optimal_leaf_order, order_cost
from ..analysis.metrics import NodeSamples, group_metrics
from ..analysis.mislabels import mislabel_candidates
from ..analysis.outliers import block_outliers
from ..analysis.partitioning import partition
from ..analysis.pyramid import Pyramid
from ..analysis.relevance import ResponseIndex, top_activating, top_neurons
from ..analysis.seriation import _similarity, seriate
from ..analysis.similarity import confusion_similarity
from ..analysis.subclasses import latent_subclasses
from ..analysis.confusion import off_diagonal_cells
from ..analysis.triage import rank_outliers
from ..analysis.view_tree import contract_chains


@dataclass(frozen=True)
class Workload:
    """The arrays of one result set, as a cache holds them (shapes as in the cache reader)."""

    labels: np.ndarray  # (samples,) int
    topk_index: np.ndarray  # (samples, k) int
    topk_prob: np.ndarray  # (samples, k) float
    true_prob: np.ndarray  # (samples,) float
    names: list[str]
    parent: np.ndarray  # (nodes,) int
    class_index: np.ndarray  # (nodes,) int
    collective: np.ndarray | None = None  # (samples, channels) float16, one layer

    @property
    def n_classes(self) -> int:
        return int((np.asarray(self.class_index) >= 0).sum())


@dataclass(frozen=True)
class BenchRow:
    """One line of the table: ``seconds`` is the median; ``goal`` an upper bound, if any."""

    task: str
    size: str
    seconds: float
    goal: float | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        return "ok" if self.seconds <= self.goal else "MISSED"


def _dense_outlier_cells(labels: np.ndarray, predicted: np.ndarray, tree: Tree) -> Any:
    """The baseline the outliers ranking replaced: a dense classes² matrix, every off-diagonal cell through
    block_outliers with one block per class (800 MB and seconds at 10,000 classes)."""
    n = tree.n_classes
    matrix = confusion_matrix(labels, predicted, n).astype(np.float64)
    return block_outliers(matrix, [(i, i + 1) for i in range(n)], tree=contract_chains(tree)[0])


def _sparse_outlier_cells(labels: np.ndarray, predicted: np.ndarray, tree: Tree) -> Any:
    """What the ranking does now for the same cells: the non-zero ones only, then their LCA and distance."""
    a, b, _ = off_diagonal_cells(labels, predicted, tree.n_classes)
    flat = contract_chains(tree)[0]
    common, leaf = flat.common_ancestors(a, b), flat.leaf_of_class()
    return common, flat.depth[leaf[a]] + flat.depth[leaf[b]] - 2 * flat.depth[common]


def timed(fn: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls, and the last result."""
    times = []
    result = None
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)), result


def synthetic_workload(classes: int, samples: int, channels: tuple[int, ...], seed: int,
                       log: Callable[[str], None] = lambda line: None) -> Workload:
    """A :mod:`~blocks_tui.synthetic.scale` result set of this size (with its first layer's responses)."""
    from ..synthetic.scale import generate

    log(f"generating {classes:,} classes x {samples:,} samples...")
    d = generate(classes, samples, channels, seed=seed)
    h = d.hierarchy
    return Workload(d.labels, d.topk_index, d.topk_prob, d.true_prob, h.names, h.parent, h.class_index,
                    d.layers[0].collective if d.layers else None)


def workload_similarity(w: Workload) -> np.ndarray:
    """(classes, classes) :func:`confusion_similarity` of the workload's top-1 predictions."""
    return confusion_similarity(confusion_matrix(w.labels, w.topk_index[:, 0], w.n_classes))


def environment() -> str:
    """One line naming what the numbers were measured with."""
    return (f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}")


def bench_core(w: Workload, repeats: int = 5, n_blocks: int = 32) -> list[BenchRow]:
    """Timings on the main workload (1000 classes, 50k samples in the shipped benchmark)."""
    n, s = w.n_classes, len(w.labels)
    size = f"{n} cl, {s // 1000}k smp" if s >= 1000 else f"{n} cl, {s} smp"
    rows: list[BenchRow] = []
    tree = Tree.from_hierarchy(w)

    t, fc = timed(lambda: filtered_confusion(w.labels, w.topk_index, n), repeats)
    rows.append(BenchRow("confusion build, no filter", size, t, 0.050))
    combined = ConfusionFilter(diagonal=False, min_count=2, top_k=1, predicted_prob=(0.3, 1.0),
                               true_prob=(0.0, 0.5), samples=np.arange(0, s, 2))
    t, _ = timed(lambda: filtered_confusion(w.labels, w.topk_index, n, combined, w.topk_prob, w.true_prob), repeats)
    rows.append(BenchRow("confusion build, all six filters", size, t, 0.050))
    flat = fc.matrix.ravel().copy()
    np.fill_diagonal(flat.reshape(n, n), 0)
    biggest = np.argsort(flat)[-100:]
    t, found = timed(lambda: sum(len(fc.cell_samples(int(c // n), int(c % n))) for c in biggest), repeats)
    rows.append(BenchRow("cell -> samples, 100 largest cells", size, t, None, f"{found} samples"))

    cells = fc.cells
    t, pyramid = timed(lambda: Pyramid.from_cells(cells.true, cells.predicted, cells.count, (n, n), tree.order,
                                                   tree.order), repeats)
    rows.append(BenchRow("pyramid build (non-zero cells by display position)", size, t, None, f"{len(cells):,} cells"))
    t, _ = timed(lambda: pyramid.view(120, 120), repeats)
    rows.append(BenchRow("pyramid frame, 120x120 bins", size, t))

    predicted = w.topk_index[:, 0]
    t, _ = timed(lambda: group_metrics(tree, w.labels, predicted), repeats)
    rows.append(BenchRow("group metrics, every node", f"{tree.n_nodes} nodes", t))
    t, index = timed(lambda: NodeSamples(tree, w.labels, predicted), repeats)
    rows.append(BenchRow("TP/FP/FN index build", size, t))
    t, _ = timed(lambda: [index.tp(v).size + index.fp(v).size + index.fn(v).size for v in tree.children(0)], repeats)
    rows.append(BenchRow("TP/FP/FN ids, top-level nodes", f"{len(tree.children(0))} nodes", t))

    similarity = workload_similarity(w)
    t, _ = timed(lambda: seriate(similarity, "barycenter"), repeats)
    rows.append(BenchRow("seriate barycenter", f"{n} classes", t))
    t, order = timed(lambda: seriate(similarity, "spectral", recursive=True), max(1, repeats // 2))
    rows.append(BenchRow("seriate spectral, recursive", f"{n} classes", t))
    t, built = timed(lambda: build_hierarchy(similarity), max(1, repeats // 2))
    rows.append(BenchRow("build hierarchy (seriation)", f"{n} classes", t, None, f"{len(built.names)} nodes"))
    ordered = similarity[np.ix_(order, order)]
    b = min(n_blocks, n)
    t, blocks = timed(lambda: partition(ordered, b), repeats)
    rows.append(BenchRow(f"partition, {b} blocks (exact DP)", f"{n} classes", t, 0.200))
    t, outliers = timed(lambda: block_outliers(fc.matrix, blocks, order, tree, by="surprise", min_count=2), repeats)
    rows.append(BenchRow("block outliers + LCA", f"{n} classes", t, None, f"{len(outliers)} cells"))
    predicted = w.topk_index[:, 0]
    t_dense, _ = timed(lambda: _dense_outlier_cells(w.labels, predicted, tree), repeats)
    t_sparse, _ = timed(lambda: _sparse_outlier_cells(w.labels, predicted, tree), repeats)
    rows.append(BenchRow("outlier cells + LCA, sparse", f"{n} classes", t_sparse, None,
                         f"dense classes² baseline {1000 * t_dense:.1f} ms: {t_dense / t_sparse:.1f}x"))
    t, ranked = timed(lambda: rank_outliers(tree, w.labels, w.topk_index, w.topk_prob, limit=500), repeats)
    rows.append(BenchRow("outliers ranking (the o panel)", f"{n} classes", t, 1.0, f"{len(ranked)} rows"))
    t, _ = timed(lambda: mislabel_candidates(w.labels, w.topk_index, w.topk_prob, w.true_prob), repeats)
    rows.append(BenchRow("mislabel candidates", size, t))

    if w.collective is not None:
        channels = w.collective.shape[1]
        rsize = f"{channels} ch x {s // 1000}k" if s >= 1000 else f"{channels} ch x {s}"
        t, rindex = timed(lambda: ResponseIndex(w.collective), max(1, repeats // 2))
        rows.append(BenchRow("relevance index (once per layer)", rsize, t))
        biggest_class = int(np.bincount(w.labels).argmax())
        in_class = w.labels == biggest_class
        t, _ = timed(lambda: top_neurons(rindex, in_class, 10), repeats)
        rows.append(BenchRow("relevance Eq. 2, one class", rsize, t, 0.300, f"{int(in_class.sum())} in group"))
        t_naive, _ = timed(lambda: _relevance_by_quantile(w.collective, in_class), 1)
        rows.append(BenchRow("  baseline: np.quantile per query", rsize, t_naive, None, f"{t_naive / t:.0f}x slower"))
        node = max(tree.children(0), key=tree.size)
        in_node = tree.contains(node, w.labels)
        t, _ = timed(lambda: top_neurons(rindex, in_node, 10), repeats)
        rows.append(BenchRow("relevance Eq. 2, largest top group", rsize, t, 0.300, f"{int(in_node.sum())} in group"))
        t, _ = timed(lambda: top_activating(w.collective, 0, 20), repeats)
        rows.append(BenchRow("top-activating samples, 1 neuron", rsize, t))
        members = np.flatnonzero(in_class)
        t, _ = timed(lambda: latent_subclasses(w.collective[members], members), repeats)
        rows.append(BenchRow("latent subclasses, one class", f"{len(members)} samples", t))
    return rows


def _relevance_by_quantile(collective: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Eq. 2 the direct way, for the baseline row: two ``np.quantile`` calls over the layer."""
    x = collective.astype(np.float32)
    q_out = np.quantile(x[~group], 0.75, axis=0)
    return np.quantile(x[group], 0.25, axis=0) / np.maximum(q_out, 1e-3 * max(q_out.max(), 1e-12))


def bench_seriation(similarity: np.ndarray, repeats: int = 3, scipy_baseline: bool = True,
                    leaf: bool = True) -> list[BenchRow]:
    """Spectral seriation and leaf ordering on one (n, n) similarity, with scipy's leaf ordering as baseline."""
    n = similarity.shape[0]
    rows: list[BenchRow] = []
    spectral_goal = {1000: 0.200, 5000: 3.0}.get(n)
    t, _ = timed(lambda: seriate(similarity, "spectral"), repeats)
    rows.append(BenchRow("seriate spectral", f"{n} classes", t, spectral_goal))
    if not leaf:
        return rows
    leaf_goal = {1000: 1.0, 2000: 5.0}.get(n)
    t, _ = timed(lambda: seriate(similarity, "leaf"), repeats)
    rows.append(BenchRow("seriate leaf (linkage + ordering)", f"{n} classes", t, leaf_goal))
    s = _similarity(similarity)
    distance = s.max() - s
    np.fill_diagonal(distance, 0.0)
    condensed = squareform(distance, checks=False)
    t_link, linkage = timed(lambda: sch.linkage(condensed, method="average"), 1)
    rows.append(BenchRow("  average linkage (shared by both)", f"{n} classes", t_link))
    t, ours = timed(lambda: optimal_leaf_order(linkage, distance), repeats)
    cost = order_cost(ours, distance)
    rows.append(BenchRow("  optimal leaf ordering, ours", f"{n} classes", t, leaf_goal, f"cost {cost:.4f}"))
    if scipy_baseline:
        t_scipy, z = timed(lambda: sch.optimal_leaf_ordering(linkage, condensed), 1)
        scipy_cost = order_cost(sch.leaves_list(z), distance)
        rows.append(BenchRow("  optimal leaf ordering, scipy", f"{n} classes", t_scipy, None,
                             f"cost {scipy_cost:.4f}; ours {t_scipy / t:.1f}x faster"))
    return rows


def format_table(rows: list[BenchRow]) -> str:
    """The rows as an aligned plain-text table (fits 100 columns; safe to paste into notes)."""
    header = ("task", "size", "time", "goal", "", "note")
    body = [
        (r.task, r.size, _duration(r.seconds), "" if r.goal is None else "<= " + _duration(r.goal), r.verdict, r.note)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    align = ("<", "<", ">", ">", "<", "<")
    lines = []
    for row in [header, *body]:
        cells = [f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"
