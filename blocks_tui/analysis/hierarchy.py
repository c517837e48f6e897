"""The class hierarchy as index arithmetic over a depth-first node order.

Nodes are stored in depth-first pre-order, so reading the leaves in node order
gives the *unified class order* every view uses, and each node covers one
contiguous run ``[start, stop)`` of it.  That turns "the classes of a group"
into a slice and group sums into prefix-sum lookups, which is what keeps
group metrics O(nodes) at 1000+ classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from ..cache.tree_arrays import tree_arrays_problem


class HierarchyLike(Protocol):
    """The three arrays a class tree is stored as: the cache's
    :class:`~blocks_tui.cache.HierarchyArrays`, a built or generated hierarchy."""

    @property
    def names(self) -> Sequence[str]: ...

    @property
    def parent(self) -> np.ndarray: ...

    @property
    def class_index(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Tree:
    """A validated class tree.

    Attributes are arrays over nodes (``parent``, ``class_index``, ``depth``,
    ``start``, ``stop``) or over classes (``order``, ``position``).
    """

    names: tuple[str, ...]
    parent: np.ndarray  # (nodes,) int, -1 for the root
    class_index: np.ndarray  # (nodes,) int, -1 for internal nodes
    order: np.ndarray = field(repr=False)  # (classes,) class at each position
    position: np.ndarray = field(repr=False)  # (classes,) position of each class
    start: np.ndarray = field(repr=False)  # (nodes,) first position covered
    stop: np.ndarray = field(repr=False)  # (nodes,) one past the last position
    depth: np.ndarray = field(repr=False)  # (nodes,) 0 for the root
    _children: tuple[tuple[int, ...], ...] = field(repr=False)
    _ancestors: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_hierarchy(cls, h: HierarchyLike) -> "Tree":
        """The tree of a stored hierarchy (``cache.hierarchy``); raises ValueError naming the problem."""
        return cls.from_arrays(h.names, h.parent, h.class_index)

    @classmethod
    def from_arrays(cls, names: Sequence[str], parent: np.ndarray, class_index: np.ndarray) -> "Tree":
        """Build a tree from the cache's arrays; raises ValueError naming the problem."""
        parent = np.asarray(parent, dtype=np.int64)
        class_index = np.asarray(class_index, dtype=np.int64)
        if len(names) != len(parent):
            raise ValueError(f"names has {len(names)} entries but parent has {len(parent)}")
        n_classes = int((class_index >= 0).sum())
        problem = tree_arrays_problem(parent, class_index, n_classes)
        if problem:
            raise ValueError(problem)
        n_nodes = len(parent)
        children: list[list[int]] = [[] for _ in range(n_nodes)]
        depth = np.zeros(n_nodes, dtype=np.int64)
        for node in range(1, n_nodes):
            children[parent[node]].append(node)
            depth[node] = depth[parent[node]] + 1
        is_leaf = class_index >= 0
        start = np.cumsum(is_leaf) - is_leaf  # leaves before each node, in pre-order
        size = is_leaf.astype(np.int64)
        for node in range(n_nodes - 1, 0, -1):
            size[parent[node]] += size[node]
        order = class_index[is_leaf]
        position = np.empty(n_classes, dtype=np.int64)
        position[order] = np.arange(n_classes)
        return cls(
            names=tuple(names),
            parent=parent,
            class_index=class_index,
            order=order,
            position=position,
            start=start,
            stop=start + size,
            depth=depth,
            _children=tuple(tuple(c) for c in children),
        )

    @property
    def root(self) -> int:
        return 0

    @property
    def n_nodes(self) -> int:
        return len(self.parent)

    @property
    def n_classes(self) -> int:
        return len(self.order)

    def children(self, node: int) -> tuple[int, ...]:
        return self._children[node]

    def is_leaf(self, node: int) -> bool:
        return bool(self.class_index[node] >= 0)

    def size(self, node: int) -> int:
        """Number of classes under ``node``."""
        return int(self.stop[node] - self.start[node])

    def classes_of(self, node: int) -> np.ndarray:
        """Class indices under ``node``, in unified order."""
        return self.order[self.start[node] : self.stop[node]]

    def node_index(self, name: str) -> int:
        """The node called ``name``; raises KeyError listing near misses."""
        try:
            return self.names.index(name)
        except ValueError:
            close = [n for n in self.names if name.lower() in n.lower()][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no hierarchy node named {name!r}{hint}") from None

    def leaf_of_class(self) -> np.ndarray:
        """(classes,) the leaf node of each class."""
        leaves = np.flatnonzero(self.class_index >= 0)
        out = np.empty(self.n_classes, dtype=np.int64)
        out[self.class_index[leaves]] = leaves
        return out

    def ancestor_at_depth(self, depth: int) -> np.ndarray:
        """(classes,) the ancestor of each class's leaf at ``depth`` (or the leaf, if shallower), read-only.

        Kept per depth (a tree never changes): the viewer asks for three levels on every frame of the
        response map, 1.5 ms at 10,000 classes.
        """
        cached = self._ancestors.get(depth)
        if cached is None:
            cached = self._ancestors[depth] = self._ancestor_at_depth(depth)
            cached.setflags(write=False)
        return cached

    def _ancestor_at_depth(self, depth: int) -> np.ndarray:
        node = self.leaf_of_class()
        for _ in range(int(self.depth.max())):
            deeper = self.depth[node] > depth
            if not deeper.any():
                break
            node = np.where(deeper, self.parent[node], node)
        return node

    def preorder(self) -> list[int]:
        """Every node, depth-first from the root with children in their stored order (the tree pane's order)."""
        out: list[int] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self.children(node)))
        return out

    def path(self, node: int) -> list[int]:
        """Nodes from the root down to ``node``."""
        out = [node]
        while self.parent[out[-1]] >= 0:
            out.append(int(self.parent[out[-1]]))
        return out[::-1]

    def contains(self, node: int, classes: np.ndarray) -> np.ndarray:
        """Bool array, shaped like ``classes``: which class indices lie under ``node``.

        One range test per class, because the node covers positions
        ``[start, stop)`` of the unified order; applied to a (samples,) label
        array this is the sample mask of a group.
        """
        if not 0 <= node < self.n_nodes:
            raise ValueError(f"node must lie in [0, {self.n_nodes}), got {node}")
        at = self.position[np.asarray(classes, dtype=np.int64)]
        return (self.start[node] <= at) & (at < self.stop[node])

    def common_ancestors(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(pairs,) int64: the lowest common ancestor node of classes ``a[i]`` and ``b[i]``.

        Vectorised over pairs: climbs from ``a``'s leaf until the node's range
        covers ``b``'s position, at most ``depth`` steps of array operations,
        so ranking thousands of confusion cells stays in numpy.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        if a.shape != b.shape:
            raise ValueError(f"a {a.shape} and b {b.shape} differ in shape")
        for name, arr in (("a", a), ("b", b)):
            if arr.size and (arr.min() < 0 or arr.max() >= self.n_classes):
                raise ValueError(f"{name} holds class indices outside [0, {self.n_classes})")
        node = self.leaf_of_class()[a]
        target = self.position[b]
        for _ in range(int(self.depth.max()) + 1):
            outside = (target < self.start[node]) | (target >= self.stop[node])
            if not outside.any():
                break
            node = np.where(outside, self.parent[node], node)
        return node

    def class_distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(pairs,) int64: edges on the tree path between the leaves of classes ``a[i]`` and ``b[i]``."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        common = self.common_ancestors(a, b)
        leaf = self.leaf_of_class()
        return self.depth[leaf[a]] + self.depth[leaf[b]] - 2 * self.depth[common]

    def level_blocks(self, depth: int) -> list[tuple[int, int]]:
        """The tree's blocks at one level: ``(start, stop)`` position ranges, left to right.

        Each class belongs to its ancestor at ``depth`` (or its leaf, when the
        leaf is shallower); consecutive classes with the same such node form a
        block.  These are the diagonal blocks the hierarchy predicts, to set
        beside the ones :func:`~blocks_tui.analysis.partition` finds.
        """
        if depth < 0:
            raise ValueError(f"depth must be 0 or more, got {depth}")
        node_at = self.ancestor_at_depth(depth)[self.order]
        cuts = np.flatnonzero(node_at[1:] != node_at[:-1]) + 1
        bounds = np.concatenate([[0], cuts, [self.n_classes]])
        return [(int(x), int(y)) for x, y in zip(bounds[:-1], bounds[1:])]
