"""Argument checks shared by the analysis modules, so every error names its argument."""

from __future__ import annotations

import numpy as np


def square_matrix(matrix: np.ndarray, name: str) -> np.ndarray:
    """``matrix`` as a finite (n, n) float64 array, or ValueError naming ``name``."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) array, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return matrix


def permutation(order: np.ndarray, n: int, name: str) -> np.ndarray:
    """``order`` as an (n,) int64 permutation of range(n), or ValueError naming ``name``."""
    order = np.asarray(order, dtype=np.int64)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"{name} must be a permutation of range({n})")
    return order


def blocks_cover(blocks: list[tuple[int, int]], n: int, name: str) -> list[tuple[int, int]]:
    """``blocks`` as sorted, non-overlapping ``(start, stop)`` ranges within [0, n], or ValueError."""
    out = sorted((int(a), int(b)) for a, b in blocks)
    at = 0
    for a, b in out:
        if a < at or b <= a or b > n:
            raise ValueError(f"{name} must be non-empty, non-overlapping (start, stop) ranges within [0, {n}]")
        at = b
    return out


def topk_rows(topk: np.ndarray, n: int, name: str) -> np.ndarray:
    """``topk`` as an (n, k) array with k >= 1 (a top-1 column to read), or ValueError naming ``name``."""
    topk = np.asarray(topk)
    if topk.ndim != 2 or topk.shape[0] != n or topk.shape[1] < 1:
        raise ValueError(f"{name} must be ({n}, k) with k >= 1, got shape {topk.shape}")
    return topk


def class_indices(values: np.ndarray, n_classes: int, name: str) -> np.ndarray:
    """``values`` as int64 class indices in [0, n_classes), or ValueError naming ``name``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, got {values.dtype}")
    values = values.astype(np.int64, copy=False)
    if values.size and (values.min() < 0 or values.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes})")
    return values
