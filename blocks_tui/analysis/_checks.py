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
