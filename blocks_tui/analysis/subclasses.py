"""Latent subclasses (paper §3.3.4): groups of samples inside one class.

A class can hold kinds of image the labels do not separate (a class of
cars seen from the front and from the side).  Their responses at a layer
correlate strongly within a kind and less across, so the samples'
correlation matrix, spectrally ordered, shows blocks along its diagonal;
partitioning it names them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .partitioning import auto_partition, block_labels, partition
from .seriation import METHODS, seriate


@dataclass(frozen=True)
class LatentSubclasses:
    """One class's samples, ordered and cut into blocks.

    ``samples`` (m,) int64: sample ids in display order.  ``correlation``
    (m, m) float64: Pearson correlation of their responses, in that order.
    ``blocks``: ``(start, stop)`` ranges of display positions.
    """

    samples: np.ndarray
    correlation: np.ndarray
    blocks: list[tuple[int, int]]

    def subclass_of(self) -> np.ndarray:
        """(m,) int64 block number of each sample, in display order."""
        return block_labels(self.blocks)


def response_correlation(responses: np.ndarray) -> np.ndarray:
    """(m, m) float64 Pearson correlation between the rows of (m, channels) ``responses``.

    A row without variance (a silent sample) correlates 0 with every other
    and 1 with itself, rather than nan.
    """
    x = np.asarray(responses, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"responses must be (samples, channels), got shape {x.shape}")
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1)
    x = np.divide(x, norm[:, None], out=np.zeros_like(x), where=norm[:, None] > 0)
    corr = np.clip(x @ x.T, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def latent_subclasses(
    responses: np.ndarray,
    samples: np.ndarray | None = None,
    n_blocks: int | None = None,
    max_blocks: int = 6,
    method: str = "spectral",
) -> LatentSubclasses:
    """Order one class's samples by response correlation and cut them into subclasses.

    ``responses`` is (m, channels): the class's rows of a layer's
    ``collective`` (or flattened maps).  ``samples`` are their (m,) sample
    ids (default 0..m-1).  Negative correlations count as no similarity when
    ordering and cutting.  ``n_blocks`` fixes the number of subclasses;
    by default the count in 1..``max_blocks`` with the best modularity.
    """
    corr = response_correlation(responses)
    m = corr.shape[0]
    ids = np.arange(m, dtype=np.int64) if samples is None else np.asarray(samples, dtype=np.int64)
    if ids.shape != (m,):
        raise ValueError(f"samples must have {m} entries, got shape {ids.shape}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if m == 0:
        return LatentSubclasses(ids, corr, [])
    similarity = np.clip(corr, 0.0, None)
    np.fill_diagonal(similarity, 0.0)
    order = seriate(similarity, method)
    ordered = similarity[np.ix_(order, order)]
    if n_blocks is not None:
        blocks = partition(ordered, n_blocks)
    else:
        blocks = auto_partition(ordered, max_blocks)
    return LatentSubclasses(ids[order], corr[np.ix_(order, order)], blocks)
