"""Linear probes (paper §4.1.2): which layer separates which groups.

A probe is a linear softmax classifier trained on one layer's cached
per-sample responses.  Its held-out predictions are stored as a result set
``probe:<layer>``, so the matrix, the tree metrics and the sample pane show
what a layer alone can tell apart.  This module holds the numpy/scipy half:

* :func:`probe_split`, the deterministic, stratified two-fold split;
* :class:`Standardizer`, fitted on the training fold only;
* :func:`fit_softmax_lbfgs`, multinomial logistic regression (softmax loss
  plus L2) by scipy's L-BFGS-B, the ``scipy`` engine;
* :func:`softmax_topk`, the cache's top-k columns from probe logits;
* :func:`layer_separation`, the layer × node table the viewer draws:
  group recall or F1 of every hierarchy node under every probe and the output.

Honesty: every stored probe prediction is held-out.  The samples are split
into two folds; the probe trained on fold 0 predicts fold 1 and the probe
trained on fold 1 predicts fold 0 (2-fold cross-fitting), with the
standardisation fitted on the training fold as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from ..cache.result_names import default_output
from ..cache.result_names import probe_name as probe_result_name  # this module's callers know it by this name
from .hierarchy import Tree
from .metrics import group_metrics

SPLIT_SEED = 0
"""Seed of the fold assignment; fixed so that re-running a probe reproduces the stored split."""

SPLIT_METHOD = (f"stratified 2-fold: within each class, samples sorted by a random key "
                f"(numpy default_rng({SPLIT_SEED}).random(samples)) alternate folds 0, 1, 0, ...; "
                "the first fold alternates by class")
"""How :func:`probe_split` assigns folds, in words, as stored next to the split."""

DEFAULT_L2 = 1e-2
"""L2 weight on the mean softmax loss; see :func:`fit_softmax_lbfgs` for why it is this strong."""

_STD_FLOOR = 1e-6
_PREDICT_ROWS = 8192  # rows of logits at a time: bounds the float32 temporaries to ~32 MB per 1000 classes

Progress = Callable[[int], None]
"""Called with a number of finished optimisation steps (iterations or epochs)."""


def probe_split(labels: np.ndarray, seed: int = SPLIT_SEED) -> np.ndarray:
    """(samples,) int8 fold, 0 or 1, of every sample: stratified by class, deterministic.

    Within each class the samples, ordered by a seeded random key, alternate
    between the folds, so each fold holds half of every class (a class with
    one sample lands in one fold only).  Which fold a class starts with
    alternates by class index, so odd class sizes do not pile up in fold 0.
    Depends only on the labels and the seed, never on the features.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1:
        raise ValueError(f"labels must be (samples,), got {labels.shape}")
    key = np.random.default_rng(seed).random(len(labels))
    order = np.lexsort((key, labels))  # by class, then by key
    sorted_labels = labels[order]
    first = np.r_[True, sorted_labels[1:] != sorted_labels[:-1]] if len(labels) else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(labels)), 0))
    rank = np.arange(len(labels)) - run_start  # position within its class
    fold = np.empty(len(labels), dtype=np.int8)
    fold[order] = (rank + sorted_labels) % 2
    return fold


@dataclass(frozen=True)
class Standardizer:
    """Per-feature mean and scale, fitted on training rows and applied to any rows."""

    mean: np.ndarray  # (features,) float32
    scale: np.ndarray  # (features,) float32, 1 where a feature is constant

    @classmethod
    def fit(cls, x: np.ndarray) -> "Standardizer":
        """Fit on (rows, features); float64 sums, because float16 responses summed in float32 drift."""
        x = np.asarray(x)
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        scale = np.where(std > _STD_FLOOR, std, 1.0)
        return cls(mean.astype(np.float32), scale.astype(np.float32))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(rows, features) float32, standardised."""
        out = np.asarray(x, dtype=np.float32) - self.mean
        out /= self.scale
        return out


def softmax_loss_grad(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, bias: np.ndarray, l2: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy + ``l2``/2·‖W‖², and its gradient in W (features, classes) and b (classes,).

    float32 throughout except the loss sum: the two matmuls are the whole
    cost, and float32 BLAS runs them about 3× faster than float64 here.
    """
    n = len(y)
    rows = np.arange(n)
    z = x @ weights
    z += bias
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    loss = -float(np.log(np.maximum(z[rows, y], 1e-30), dtype=np.float64).mean())
    loss += 0.5 * l2 * float(np.vdot(weights, weights))
    z[rows, y] -= 1.0
    z /= n
    grad_w = x.T @ z
    grad_w += l2 * weights
    return loss, grad_w, z.sum(axis=0)


def fit_softmax_lbfgs(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    l2: float = DEFAULT_L2,
    max_iter: int = 10,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: (W (features, classes), b (classes,)) float32.

    ``x`` is (samples, features) float32, standardised; ``y`` (samples,)
    class indices.  Minimises :func:`softmax_loss_grad` from zero weights by
    scipy's L-BFGS-B for at most ``max_iter`` iterations.  A probe on a
    1000-class cache has ~25 samples per class and up to thousands of
    features, so it overfits unless regularised.  On the 2048-channel layer
    of the synthetic 50k × 1000 cache (one random half held out), top-1 after 10 / 20 / 30
    iterations was 28.4 / 28.2 / 27.0 % at l2 = 3e-3, 29.4 / 27.9 / 28.0 % at
    1e-2, 28.6 / 27.5 % at 3e-2 and 23.0 / 18.2 % at 1e-1 (nearest class mean:
    25.0 %); hence l2 = 1e-2 and 10 iterations, the cap acting as early
    stopping.
    """
    from scipy.optimize import minimize  # lazily: scipy costs ~0.3 s to import

    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    features = x.shape[1]
    size = features * n_classes

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights = theta[:size].astype(np.float32).reshape(features, n_classes)
        loss, grad_w, grad_b = softmax_loss_grad(x, y, weights, theta[size:].astype(np.float32), l2)
        return loss, np.concatenate([grad_w.ravel(), grad_b]).astype(np.float64)

    done = 0

    def step(_: np.ndarray) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(1)

    result = minimize(objective, np.zeros(size + n_classes), jac=True, method="L-BFGS-B", callback=step,
                      options={"maxiter": max_iter})
    if progress and done < max_iter:
        progress(max_iter - done)  # converged early: the bar still ends full
    theta = result.x
    return theta[:size].astype(np.float32).reshape(features, n_classes), theta[size:].astype(np.float32)


def softmax_topk(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray, labels: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A probe's result-set columns for rows ``x``: top-k classes, their probabilities, the label's probability.

    Returns (rows, k) int32, (rows, k) float32 and (rows,) float32, the
    shapes the cache stores; with fewer than ``k`` classes the top-k is
    padded with class -1 at probability 0, as the extractor pads.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n, n_classes = len(x), weights.shape[1]
    kept = min(k, n_classes)
    top_index = np.full((n, k), -1, dtype=np.int32)
    top_prob = np.zeros((n, k), dtype=np.float32)
    true_prob = np.empty(n, dtype=np.float32)
    for start in range(0, n, _PREDICT_ROWS):
        rows = slice(start, start + _PREDICT_ROWS)
        z = np.asarray(x[rows], dtype=np.float32) @ weights
        z += bias
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        best = np.argpartition(-z, kept - 1, axis=1)[:, :kept] if kept < n_classes else np.tile(
            np.arange(n_classes), (len(z), 1))
        best_prob = np.take_along_axis(z, best, axis=1)
        rank = np.argsort(-best_prob, axis=1, kind="stable")
        top_index[rows, :kept] = np.take_along_axis(best, rank, axis=1)
        top_prob[rows, :kept] = np.take_along_axis(best_prob, rank, axis=1)
        true_prob[rows] = z[np.arange(len(z)), labels[rows]]
    return top_index, top_prob, true_prob


# -- the layer × node view ----------------------------------------------------------
_METRICS = ("recall", "f1", "precision")


@dataclass(frozen=True)
class LayerSeparation:
    """One group metric of every hierarchy node under every column (probe layers, then the output).

    Rows are hierarchy nodes in node-index order, which is the tree's
    depth-first pre-order (the order the tree pane lists them).
    ``values`` is (nodes, columns) float64, nan where the metric is
    undefined (no held-out sample in the node for recall; nothing predicted
    into it for precision).  ``support`` is (nodes, columns) int64: held-out
    samples whose true class lies in the node.
    """

    columns: tuple[str, ...]
    metric: str
    values: np.ndarray
    support: np.ndarray

    def first_reaching(self, threshold: float) -> np.ndarray:
        """(nodes,) int64: the first column whose value is ≥ ``threshold``, -1 where none is.

        "At which layer does this group become separable?" in one array.
        """
        reached = np.nan_to_num(self.values, nan=-np.inf) >= threshold
        return np.where(reached.any(axis=1), reached.argmax(axis=1), -1).astype(np.int64)


def probe_columns(layer_names: Sequence[str], result_names: Sequence[str], output: str | None = None) -> list[str]:
    """The layer × node view's columns: each layer's probe result set in layer order, then ``output``.

    ``layer_names`` is the cache's layer order (early to late);
    ``output`` defaults to ``original`` when present, else the first result
    set that is not a probe.  Layers without a probe are left out.
    """
    present = set(result_names)
    columns = [probe_result_name(layer) for layer in layer_names if probe_result_name(layer) in present]
    if output is None:
        output = default_output(result_names)
    elif output not in present:
        raise ValueError(f"no result set {output!r}")
    return columns + ([output] if output is not None else [])


def layer_separation(
    tree: Tree,
    labels: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    metric: str = "recall",
    heldout: Mapping[str, np.ndarray] | None = None,
) -> LayerSeparation:
    """Group ``metric`` (recall, f1 or precision; paper Eq. 1) of every node under every column.

    ``labels`` is (samples,) class indices; ``predictions`` maps column
    names, in column order (see :func:`probe_columns`), to (samples,) top-1
    class indices.  ``heldout`` optionally maps a column to a (samples,)
    bool mask of the samples its predictor did not train on; only those
    count.  Probe result sets written by ``blocks-tui probe`` are held-out
    for every sample (2-fold cross-fitting), so they need no mask; a probe
    that predicted its own training samples must pass one.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    labels = np.asarray(labels, dtype=np.int64)
    names = tuple(predictions)
    values = np.full((tree.n_nodes, len(names)), np.nan)
    support = np.zeros((tree.n_nodes, len(names)), dtype=np.int64)
    for column, name in enumerate(names):
        predicted = np.asarray(predictions[name], dtype=np.int64)
        if predicted.shape != labels.shape:
            raise ValueError(f"predictions[{name!r}] is {predicted.shape}, labels {labels.shape}")
        mask = None if heldout is None else heldout.get(name)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != labels.shape:
                raise ValueError(f"heldout[{name!r}] is {mask.shape}, labels {labels.shape}")
            m = group_metrics(tree, labels[mask], predicted[mask])
        else:
            m = group_metrics(tree, labels, predicted)
        values[:, column] = getattr(m, metric)
        support[:, column] = m.true_count
    return LayerSeparation(names, metric, values, support)
