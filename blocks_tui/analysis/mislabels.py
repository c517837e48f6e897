"""Mislabel candidates (paper §4.3): confident predictions that contradict the label.

A sample the model assigns to another class with high probability, while
giving its labelled class almost none, is more often a labelling error than
a model error (the paper finds such images in ImageNet's validation set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import topk_rows

# Only an exact 0 is floored: a float32 softmax stores probabilities down to 1e-45, and a floor of 1e-12
# (27.6 nats) tied the most confident mislabels, whose labels get 1e-13 to 1e-22.
_PROB_FLOOR = float(np.finfo(np.float64).tiny)


@dataclass(frozen=True)
class MislabelCandidates:
    """Candidates, most suspicious first; every array is (candidates,).

    ``score`` = log(predicted_prob) - log(true_prob): how many nats the
    model prefers its prediction over the label.
    """

    sample: np.ndarray
    label: np.ndarray
    predicted: np.ndarray
    predicted_prob: np.ndarray
    true_prob: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.sample)


def mislabel_candidates(
    labels: np.ndarray,
    topk_index: np.ndarray,
    topk_prob: np.ndarray,
    true_prob: np.ndarray,
    min_predicted_prob: float = 0.9,
    max_true_prob: float = 0.01,
    limit: int | None = None,
) -> MislabelCandidates:
    """Samples predicted as another class with probability ≥ ``min_predicted_prob``
    while their label gets ≤ ``max_true_prob``, ranked by the log-ratio of the two.

    ``labels`` (samples,) int, ``topk_index``/``topk_prob`` (samples, k) best
    first, ``true_prob`` (samples,) float.  Ties rank by sample index.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    topk_index = topk_rows(topk_index, n, "topk_index")
    topk_prob = np.asarray(topk_prob, dtype=np.float64)
    true_prob = np.asarray(true_prob, dtype=np.float64)
    if topk_prob.shape != topk_index.shape or true_prob.shape != (n,):
        raise ValueError(f"topk_index, topk_prob must be ({n}, k) and true_prob ({n},)")
    if not 0 <= min_predicted_prob <= 1:
        raise ValueError(f"min_predicted_prob must lie in [0, 1], got {min_predicted_prob}")
    if not 0 <= max_true_prob <= 1:
        raise ValueError(f"max_true_prob must lie in [0, 1], got {max_true_prob}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    predicted = topk_index[:, 0].astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    p = topk_prob[:, 0] if n else np.zeros(0)
    chosen = np.flatnonzero((predicted != labels) & (p >= min_predicted_prob) & (true_prob <= max_true_prob))
    p_chosen = np.asarray(p[chosen], dtype=np.float64)  # float64 before the floor, which float32 rounds to 0
    p_label = np.asarray(true_prob[chosen], dtype=np.float64)
    score = np.log(np.maximum(p_chosen, _PROB_FLOOR)) - np.log(np.maximum(p_label, _PROB_FLOOR))
    rank = np.lexsort((chosen, -score))[:limit]
    chosen = chosen[rank]
    return MislabelCandidates(
        sample=chosen,
        label=labels[chosen],
        predicted=predicted[chosen],
        predicted_prob=p[chosen],
        true_prob=true_prob[chosen],
        score=score[rank],
    )
