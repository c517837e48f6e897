"""Structural checks on the hierarchy arrays, shared by the writer and reader.

A hierarchy is stored as three parallel arrays over nodes: ``names``,
``parent`` (-1 for the root) and ``class_index`` (-1 for internal nodes).
Nodes are in depth-first pre-order, so the leaves, read in node order, give
the unified class order, and every node's classes form one contiguous run of
it.  That property is what lets the views zoom into a node by slicing.
"""

from __future__ import annotations

import numpy as np


def tree_arrays_problem(parent: np.ndarray, class_index: np.ndarray, n_classes: int) -> str | None:
    """Return a one-line description of what is wrong, or None when valid.

    Checks: equal lengths, exactly one root at node 0, parents in range,
    depth-first pre-order (which also rules out cycles), leaves and only
    leaves carry a class, and every class is a leaf exactly once.
    """
    parent = np.asarray(parent)
    class_index = np.asarray(class_index)
    n_nodes = len(parent)
    if len(class_index) != n_nodes:
        return f"hierarchy has {n_nodes} parents but {len(class_index)} class indices"
    if n_nodes == 0:
        return "hierarchy is empty"
    if parent[0] != -1:
        return "hierarchy node 0 must be the root (parent -1)"
    roots = np.flatnonzero(parent == -1)
    if len(roots) != 1:
        return f"hierarchy has {len(roots)} roots, expected 1"
    if np.any((parent < -1) | (parent >= n_nodes)):
        return "hierarchy parent index out of range"
    stack: list[int] = [0]
    for node in range(1, n_nodes):
        p = int(parent[node])
        while stack and stack[-1] != p:
            stack.pop()
        if not stack:
            return f"hierarchy is not in depth-first pre-order at node {node}"
        stack.append(node)
    has_child = np.zeros(n_nodes, dtype=bool)
    has_child[parent[1:]] = True
    is_leaf = ~has_child
    if n_nodes == 1:
        is_leaf[0] = True
    if np.any(class_index[is_leaf] < 0):
        bad = int(np.flatnonzero(is_leaf & (class_index < 0))[0])
        return f"hierarchy leaf {bad} has no class"
    if np.any(class_index[~is_leaf] >= 0):
        bad = int(np.flatnonzero(~is_leaf & (class_index >= 0))[0])
        return f"hierarchy internal node {bad} carries class {int(class_index[bad])}"
    leaf_classes = class_index[is_leaf]
    if np.any(leaf_classes >= n_classes):
        return f"hierarchy names class {int(leaf_classes.max())} but there are {n_classes} classes"
    counts = np.bincount(leaf_classes, minlength=n_classes)
    if np.any(counts != 1):
        cls = int(np.flatnonzero(counts != 1)[0])
        return f"class {cls} appears {int(counts[cls])} times among the hierarchy leaves, expected once"
    return None
