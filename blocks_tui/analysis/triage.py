"""Triage (paper §4.3, "Inspecting Data Quality"): what a curator should look at first.

Three ranked lists, each computed from predictions alone — never from a
data set's ground truth, which only tests read:

* **block outliers** (:func:`rank_outliers`): pairs of classes confused
  across the hierarchy's blocks, with a suggested kind (a redundant pair,
  a subclass or part-of relation, label noise, or plain ambiguity);
* **mislabel candidates** (:func:`rank_mislabels`): every misclassified
  sample, most suspicious first;
* **sensitive groups** (:func:`sensitive_groups`): hierarchy groups whose
  recall drops between two result sets (grayscale, rotated).

Which blocks.  Every node's children are blocks (the viewer draws them
so), and the finest block of a class is its parent group, with single-child
chains contracted as the viewer does.  A confusion is a block outlier when
its two classes are not both direct members of their lowest common ancestor:
it crosses from one group into another instead of staying among siblings.
No single depth is cut, because real trees (WordNet) are ragged: a fixed
depth is a leaf level in one branch and the top of another.  A depth
chosen by modularity was tried and rejected: on the demo it picks the two
top-level groups, under which even the planted missile/projectile pair
(rods vs. rings, both artifacts) is "inside a block".  With sibling
groups, missile/projectile (rods vs. rings) and flower/anemone (plants vs.
sea) are outliers, while pentagon/hexagon (siblings in many-sided) is not.

One row per unordered class pair, oriented so that ``true → predicted`` is
the heavier direction, because a curator decides about a pair ("these two
classes are one"), not about a cell; the lighter direction is the row's
``reverse_count``.

Ranking.  Raw counts favour big, error-prone classes.  Each pair's count
``k`` (both directions) is compared with what it would be if every class's
errors went to other classes in proportion to how often those are predicted
wrongly (``E = r_a c_b / T + r_b c_a / T`` over the off-diagonal matrix) and
ranked by the Poisson surprise ``k ln(k/E) - (k - E)`` in nats: large for a
heavy cell far above its expectation, small for a single stray sample.

Kinds (thresholds in :class:`KindThresholds`, with the reasons there):

* ``redundant`` — heavy, symmetric and across distant branches: each
  class's samples have the other among their top-2 predictions about
  equally often, the counts do not differ significantly, and the classes
  sit in different groups under their common ancestor.  Two names for
  one kind of image.
* ``subclass`` — heavy but asymmetric: the samples of one class (the
  special one) nearly always have the other in their top-2, while only the
  special-looking part of the general class has it.  Subclass or part-of.
* ``label-noise`` — a few samples, predicted with high confidence, between
  classes the model otherwise keeps apart: more likely wrong labels.
* ``ambiguous`` — everything else: some overlap that is neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..short_names import distinct_shortenings
from .confusion import off_diagonal_cells
from .hierarchy import Tree
from .metrics import metric_change
from .mislabels import mislabel_candidates
from .view_tree import contract_chains

KINDS = ("redundant", "subclass", "label-noise", "ambiguous")

# Top-2 rather than a probability cut-off: ranks need no calibration, and
# "b is a's first or second guess" is what a person checking the pair sees.
_COVER_RANKS = 2


@dataclass(frozen=True)
class KindThresholds:
    """When a pair gets which suggested kind; the defaults and why.

    ``heavy_share`` 0.1 and ``heavy_count`` 4: a pair is heavy when its
    confusions (both directions) reach 10% of the smaller class's samples and
    at least 4 samples — a systematic overlap, not a handful of strays (on the
    demo the planted pairs reach 33-80%; most other off-block pairs hold 1-3
    samples, the mislabels and odd images).

    ``symmetric_coverage`` 0.8 and ``symmetric_count`` 0.4: a heavy pair is
    redundant when the two top-2 coverages (share of each class's samples that
    have the other among their two best guesses) are within 20% of each other
    *and* the lighter direction has at least 40% of the heavier one's count.
    Coverage is the main test because it uses every sample of both classes:
    on the demo the redundant pair's coverages are 0.92-0.97 both ways while
    the subclass pair's are 0.60-0.64 vs. 0.95-0.96 (a ratio of 0.63-0.67).
    Counts alone are too noisy (47 vs. 31 for the redundant pair, 22 vs. 12
    for the subclass pair in the full demo), so they only veto.  Either
    difference must also exceed ``significance`` (3) standard errors — a
    two-proportion test for the coverages, sqrt(count) for the counts — so
    that small classes do not look asymmetric by chance: the synthetic
    cache's planted symmetric pairs, ~50 samples a class, reach coverage
    ratios of 0.5 from sampling noise alone, while the demo's subclass pair
    is 3.8-5.6 standard errors apart.

    ``redundant_distance`` 4: a redundant pair also sits in distant branches,
    each class inside a different group under their common ancestor (4 edges
    apart in the chain-contracted tree).  A heavy symmetric pair closer than
    that — a class confused with a neighbouring group — is ``ambiguous``.

    ``noise_confidence`` 0.8, ``noise_coverage`` 0.1: a light pair is label
    noise when its samples' top-1 probability averages at least 0.8 while at
    most 10% of the true class's samples have the other class in their top-2:
    the model is sure, and it does not otherwise mix the two classes.
    """

    heavy_share: float = 0.1
    heavy_count: int = 4
    symmetric_coverage: float = 0.8
    symmetric_count: float = 0.4
    noise_confidence: float = 0.8
    noise_coverage: float = 0.1
    significance: float = 3.0
    redundant_distance: int = 4


@dataclass(frozen=True)
class OutlierRow:
    """One off-block class pair; ``true → predicted`` is its heavier direction.

    ``count``/``reverse_count``: samples of ``true`` predicted as
    ``predicted`` and the other way round.  ``common_ancestor`` the lowest
    common ancestor node, ``distance`` the edges between the two leaves.
    ``surprise`` the (0, 1] cell surprise of :func:`block_outliers`; ``score``
    the ranking's Poisson surprise in nats.  ``coverage`` the share of
    ``true``'s samples with ``predicted`` among their top-2 predictions,
    ``reverse_coverage`` the other way round.  ``confidence`` the mean top-1
    probability of the cell's samples.  ``kind`` one of :data:`KINDS`.
    """

    true: int
    predicted: int
    count: int
    reverse_count: int
    common_ancestor: int
    distance: int
    surprise: float
    score: float
    coverage: float
    reverse_coverage: float
    confidence: float
    kind: str

    @property
    def general(self) -> int:
        """The broader class of the pair: the one whose samples less often look like the other.

        Meaningful for ``subclass`` rows (anemone is a kind of flower: the
        anemones nearly all look like flowers, few flowers look like anemones).
        """
        return self.true if self.coverage <= self.reverse_coverage else self.predicted

    @property
    def special(self) -> int:
        """The narrower class of the pair (see :attr:`general`)."""
        return self.predicted if self.general == self.true else self.true


def rank_outliers(
    tree: Tree,
    labels: np.ndarray,
    topk_index: np.ndarray,
    topk_prob: np.ndarray,
    thresholds: KindThresholds = KindThresholds(),
    limit: int | None = None,
) -> list[OutlierRow]:
    """The class pairs of one result set confused across blocks, ranked, each with a suggested kind.

    ``labels`` (samples,) stored class indices; ``topk_index``/``topk_prob``
    (samples, k) best first, k ≥ 2 for the coverage (with k = 1 coverage
    counts top-1 only).  ``limit`` keeps the first rows.  See the module
    docstring for the blocks, the ranking and the kinds.
    O(classes + samples·log samples).
    """
    labels = np.asarray(labels, dtype=np.int64)
    topk_index = np.asarray(topk_index, dtype=np.int64)
    topk_prob = np.asarray(topk_prob, dtype=np.float64)
    n = tree.n_classes
    if topk_index.ndim != 2 or topk_index.shape[0] != len(labels) or topk_prob.shape != topk_index.shape:
        raise ValueError(f"topk_index and topk_prob must both be ({len(labels)}, k)")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    predicted = topk_index[:, 0] if len(labels) else np.zeros(0, dtype=np.int64)
    # The confusion matrix as its non-zero off-diagonal cells, sorted by (true, predicted): at most one per
    # sample, where a dense classes² array is 800 MB at 10,000 classes.
    a, b, cell_count = off_diagonal_cells(labels, predicted, n)
    row_total = np.bincount(a, weights=cell_count, minlength=n)
    col_total = np.bincount(b, weights=cell_count, minlength=n)
    total = float(cell_count.sum())
    surprise = cell_count / np.sqrt(row_total[a] * col_total[b])
    flat, old_of_new = contract_chains(tree)
    # Every off-diagonal cell, then those whose classes are not both direct children of their LCA.
    common = flat.common_ancestors(a, b)
    group = flat.parent[flat.leaf_of_class()]
    across = (common != group[a]) | (common != group[b])
    codes = a * n + b
    back = np.searchsorted(codes, b * n + a)
    found = back < len(codes)
    reverse = np.zeros(len(codes), dtype=np.float64)
    reverse[found] = np.where(codes[back[found]] == (b * n + a)[found], cell_count[back[found]], 0.0)
    heavier = (cell_count > reverse) | ((cell_count == reverse) & (a < b))
    keep = np.flatnonzero(across & heavier)
    a, b, count, reverse = a[keep], b[keep], cell_count[keep].astype(np.int64), reverse[keep].astype(np.int64)
    common = common[keep]
    leaf = flat.leaf_of_class()
    distance = flat.depth[leaf[a]] + flat.depth[leaf[b]] - 2 * flat.depth[common]

    expected = (row_total[a] * col_total[b] + row_total[b] * col_total[a]) / max(total, 1.0)
    k = (count + reverse).astype(np.float64)
    score = k * np.log(k / expected) - (k - expected)

    support = np.bincount(labels, minlength=n).astype(np.float64)
    cover = _pair_lookup(labels, topk_index[:, :_COVER_RANKS], n)
    coverage = _share(cover(a, b), support[a])
    reverse_coverage = _share(cover(b, a), support[b])
    confidence = _share(_pair_lookup(labels, predicted[:, None], n, topk_prob[:, 0])(a, b), count)
    kind = _kinds(count, reverse, coverage, reverse_coverage, confidence, support[a], support[b], distance,
                  thresholds)

    rank = np.lexsort((b, a, -count, -score))[:limit]
    return [
        OutlierRow(int(a[i]), int(b[i]), int(count[i]), int(reverse[i]), int(old_of_new[common[i]]),
                   int(distance[i]), float(surprise[keep[i]]), float(score[i]), float(coverage[i]),
                   float(reverse_coverage[i]), float(confidence[i]), str(kind[i]))
        for i in rank
    ]


def _kinds(count: np.ndarray, reverse: np.ndarray, coverage: np.ndarray, reverse_coverage: np.ndarray,
           confidence: np.ndarray, support_a: np.ndarray, support_b: np.ndarray, distance: np.ndarray,
           t: KindThresholds) -> np.ndarray:
    """(pairs,) kind names; see :class:`KindThresholds`."""
    pair = count + reverse
    heavy = (pair >= t.heavy_count) & (pair >= t.heavy_share * np.minimum(support_a, support_b))
    cover_ratio = _share(np.minimum(coverage, reverse_coverage), np.maximum(coverage, reverse_coverage))
    count_ratio = _share(np.minimum(count, reverse), np.maximum(count, reverse))
    pooled = _share(coverage * support_a + reverse_coverage * support_b, support_a + support_b)
    cover_se = np.sqrt(pooled * (1 - pooled) * (_share(1, support_a) + _share(1, support_b)))
    count_se = np.sqrt(pair)
    asymmetric = ((cover_ratio < t.symmetric_coverage) & _beyond(np.abs(coverage - reverse_coverage), cover_se, t))
    asymmetric |= (count_ratio < t.symmetric_count) & _beyond(np.abs(count - reverse), count_se, t)
    noise = (confidence >= t.noise_confidence) & (coverage <= t.noise_coverage)
    return np.select(
        [heavy & ~asymmetric & (distance >= t.redundant_distance), heavy & asymmetric, noise],
        ["redundant", "subclass", "label-noise"],
        default="ambiguous",
    )


def _beyond(difference: np.ndarray, standard_error: np.ndarray, t: KindThresholds) -> np.ndarray:
    """Whether a difference exceeds ``t.significance`` standard errors (any non-zero one does when the error is 0)."""
    return difference > t.significance * standard_error


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, 0 where whole is 0."""
    part, whole = np.broadcast_arrays(np.asarray(part, dtype=np.float64), np.asarray(whole, dtype=np.float64))
    return np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)


def _pair_lookup(labels: np.ndarray, columns: np.ndarray, n: int, weights: np.ndarray | None = None):
    """A function (a, b) -> summed ``weights`` (default 1) of samples labelled a with b in ``columns``.

    Sparse on purpose: the (label, class) codes are sorted once and looked up
    per pair, so memory stays O(samples·columns) even at many thousands of
    classes, where a dense classes² table would not.
    """
    codes = labels[:, None] * n + columns
    valid = (columns >= 0) & (columns != labels[:, None])
    w = np.ones(columns.shape) if weights is None else np.broadcast_to(np.asarray(weights)[:, None], columns.shape)
    codes, w = codes[valid], w[valid]
    order = np.argsort(codes, kind="stable")
    codes, cumulative = codes[order], np.concatenate([[0.0], np.cumsum(w[order])])

    def lookup(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        query = np.asarray(a, dtype=np.int64) * n + np.asarray(b, dtype=np.int64)
        return cumulative[np.searchsorted(codes, query, "right")] - cumulative[np.searchsorted(codes, query, "left")]

    return lookup


# -- mislabel candidates -------------------------------------------------------------

CONFIDENT_PREDICTED = 0.9
"""A candidate is ``confident`` when its prediction has at least this probability
and its label at most :data:`CONFIDENT_LABEL` (the hard thresholds of
:func:`mislabel_candidates`): the paper's "high-confidence wrong prediction"."""
CONFIDENT_LABEL = 0.01


@dataclass(frozen=True)
class MislabelRow:
    """One misclassified sample; ``score`` = ln p(predicted) - ln p(label), in nats.

    ``top_classes``/``top_probs`` are its top-k predictions, best first (for
    the screen's top-5 column).
    """

    sample: int
    label: int
    predicted: int
    predicted_prob: float
    label_prob: float
    score: float
    confident: bool
    top_classes: tuple[int, ...]
    top_probs: tuple[float, ...]


def rank_mislabels(
    labels: np.ndarray,
    topk_index: np.ndarray,
    topk_prob: np.ndarray,
    true_prob: np.ndarray,
    limit: int | None = None,
) -> list[MislabelRow]:
    """Every misclassified sample, most likely mislabeled first.

    Ranked by how many nats the model prefers its prediction over the label
    (:func:`mislabel_candidates` with its thresholds opened), not filtered by
    hard cut-offs: a ranking over all wrong samples degrades gracefully
    when a model is less sure, where fixed thresholds silently return
    nothing.  On the demo the planted mislabels fill 94-97% of the first N
    rows and all of the first 2N (N planted).  Shapes as for
    :func:`mislabel_candidates`.
    """
    found = mislabel_candidates(labels, topk_index, topk_prob, true_prob, 0.0, 1.0, limit)
    topk_index = np.asarray(topk_index)
    topk_prob = np.asarray(topk_prob, dtype=np.float64)
    confident = (found.predicted_prob >= CONFIDENT_PREDICTED) & (found.true_prob <= CONFIDENT_LABEL)
    return [
        MislabelRow(int(s), int(found.label[i]), int(found.predicted[i]), float(found.predicted_prob[i]),
                    float(found.true_prob[i]), float(found.score[i]), bool(confident[i]),
                    tuple(int(c) for c in topk_index[s] if c >= 0),
                    tuple(float(p) for c, p in zip(topk_index[s], topk_prob[s]) if c >= 0))
        for i, s in enumerate(found.sample)
    ]


# -- groups sensitive to a transform -------------------------------------------------

@dataclass(frozen=True)
class SensitiveGroup:
    """A hierarchy group whose recall drops from ``before`` to ``after`` (fractions); ``drop`` = before - after."""

    node: int
    support: int
    before: float
    after: float
    drop: float


def sensitive_groups(
    tree: Tree,
    labels: np.ndarray,
    predicted_before: np.ndarray,
    predicted_after: np.ndarray,
    min_drop: float = 0.1,
    min_classes: int = 2,
    limit: int | None = None,
) -> list[SensitiveGroup]:
    """Groups (inner nodes with at least ``min_classes`` classes, not the root) ranked by recall drop.

    Compare the original result set with a transformed one (grayscale,
    rot90): a group whose recall falls by ``min_drop`` (0.1 = 10 points) or
    more relies on what the transform removed.  Single classes are left out
    because a group-level drop is the finding (the paper's Fig. 8-9); the
    recall of a group counts a prediction into a sibling as a hit, so a
    group's drop is not just the mean of its classes'.
    """
    change = metric_change(tree, labels, predicted_before, predicted_after, "recall")
    rows = []
    for node in change.ranked:
        node = int(node)
        drop = -float(change.change[node])
        if drop < min_drop:
            break
        if node == tree.root or tree.is_leaf(node) or tree.size(node) < min_classes:
            continue
        rows.append(SensitiveGroup(node, int(change.support[node]), float(change.before[node]),
                                   float(change.after[node]), drop))
        if limit is not None and len(rows) >= limit:
            break
    return rows


OUTLIER_COLUMNS = ("#", "true → predicted", "count", "back", "common ancestor", "dist", "kind")
MISLABEL_COLUMNS = ("#", "sample", "label", "predicted", "p(pred)", "p(label)", "top 5")


def outlier_cells(rank: int, row: OutlierRow, class_names: Sequence[str], node_names: Sequence[str]) -> list[str]:
    """One outlier row as the triage table shows it (columns :data:`OUTLIER_COLUMNS`), ``rank`` from 1."""
    return [str(rank), f"{class_names[row.true]} → {class_names[row.predicted]}", f"{row.count:,}",
            f"{row.reverse_count:,}", node_names[row.common_ancestor], str(row.distance), row.kind]


def mislabel_cells(rank: int, row: MislabelRow, class_names: Sequence[str]) -> list[str]:
    """One mislabel candidate as the triage table shows it (columns :data:`MISLABEL_COLUMNS`)."""
    top5 = list(zip(row.top_classes[:5], row.top_probs[:5]))
    # Cut long names where they differ: `class-00383` must not read as `class-0038`, like `class-00384`.
    short = distinct_shortenings([class_names[c] for c, _ in top5], 12)
    top = " ".join(f"{name} {p:.0%}" for name, (_, p) in zip(short, top5))
    return [str(rank), f"#{row.sample}", class_names[row.label], class_names[row.predicted],
            f"{row.predicted_prob:.3f}", f"{row.label_prob:.1e}", top]
