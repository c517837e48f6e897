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


def preorder_arrays(
    root: str,
    children: dict[str, list[str]],
    class_of: dict[str, int],
    name_of: dict[str, str] | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Flatten a tree given as child lists into the stored arrays.

    ``children`` maps node keys to child keys (in display order), ``class_of``
    maps leaf keys to class indices, ``name_of`` maps keys to display names
    (default: the key).  Returns ``(names, parent, class_index)`` in
    depth-first pre-order, ready for ``CacheWriter.write_hierarchy``.
    """
    names: list[str] = []
    parent: list[int] = []
    class_index: list[int] = []
    stack: list[tuple[str, int]] = [(root, -1)]
    while stack:
        key, up = stack.pop()
        node = len(names)
        names.append(name_of.get(key, key) if name_of else key)
        parent.append(up)
        class_index.append(class_of.get(key, -1) if not children.get(key) else -1)
        stack.extend((child, node) for child in reversed(children.get(key, [])))
    return names, np.asarray(parent, dtype=np.int32), np.asarray(class_index, dtype=np.int32)


def contract_single_child_chains(root: str, children: dict[str, list[str]]) -> tuple[str, dict[str, list[str]]]:
    """Drop internal nodes with exactly one child, as the paper does.

    A chain ``a → b → c`` becomes ``a → c``: the node that remains is the one
    where the tree branches (or the leaf), so every level shown carries
    information.  A root with one child is replaced by that child.
    """

    def skip(node: str) -> str:
        while len(children.get(node, [])) == 1:
            node = children[node][0]
        return node

    new_root = skip(root)
    out: dict[str, list[str]] = {}
    stack = [new_root]
    while stack:
        node = stack.pop()
        kids = [skip(child) for child in children.get(node, [])]
        if kids:
            out[node] = kids
            stack.extend(kids)
    return new_root, out
