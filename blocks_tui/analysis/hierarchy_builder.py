"""A class hierarchy from the confusions alone, by recursive seriation and partitioning.

For a data set without a hierarchy (or to check one), the blocks a model
actually confuses become the tree.  Starting from all classes, each group is
seriated on its own sub-matrix (the paper's block-by-block refinement) and
cut in two by :func:`~blocks_tui.analysis.partition` (see
:func:`~blocks_tui.analysis.seriation.split_tree`).  The cut is kept only when it means something: the two halves' within-density must be
``min_ratio`` times their cross-density.  Then splits of the same strength
are merged into one multi-way node: a split whose halves are confused with
each other at most ``merge_ratio`` times as densely as its parent's are is
on the parent's level (three equally related subgroups give one node with
three children, not two nested binary ones).  The result is the cache's
hierarchy format, so the viewer can adopt it with source ``"seriation"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..cache.tree_arrays import tree_arrays_problem
from .hierarchy import Tree
from .seriation import METHODS, SplitGroup, _similarity, split_tree

SOURCE = "seriation"


@dataclass(frozen=True)
class BuiltHierarchy:
    """Tree arrays in depth-first pre-order, ready for ``CacheWriter.write_hierarchy``.

    ``names`` (nodes,), ``parent`` (nodes,) int64 with -1 for the root and
    ``class_index`` (nodes,) int64 with -1 for internal nodes, as the cache
    stores them; ``source`` is the cache's hierarchy source tag.
    """

    names: list[str]
    parent: np.ndarray
    class_index: np.ndarray
    source: str = SOURCE

    def tree(self) -> Tree:
        return Tree.from_hierarchy(self)

    @property
    def order(self) -> np.ndarray:
        """(classes,) int64 the unified class order: leaves in node order."""
        return self.class_index[self.class_index >= 0]


def _flatten(group: SplitGroup, merge_ratio: float) -> list[SplitGroup]:
    """The children of ``group`` after merging splits of the same strength into it."""
    children: list[SplitGroup] = []
    stack = list(reversed(group.parts))
    while stack:
        part = stack.pop()
        same_level = part.cross is not None and part.cross <= merge_ratio * (group.cross or 0.0)
        if same_level:
            stack.extend(reversed(part.parts))
        else:
            children.append(part)
    return children


def build_hierarchy(
    similarity: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    method: str = "spectral",
    min_ratio: float = 2.0,
    merge_ratio: float = 2.0,
) -> BuiltHierarchy:
    """Build a class tree from an (n, n) similarity by recursive seriation and partitioning.

    ``similarity`` is symmetric and non-negative, e.g. :func:`confusion_similarity`
    of a result set; ``class_names`` name the leaves (default ``class i``);
    ``method`` is the seriation used inside every group.  Internal nodes are
    named by their path (``all``, ``block 1``, ``block 1.2``, ...).  Groups
    without a significant split become internal nodes whose children are
    their classes, in seriated order.  See the module docstring for
    ``min_ratio`` and ``merge_ratio``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if min_ratio < 1:
        raise ValueError(f"min_ratio must be 1 or more, got {min_ratio}")
    if merge_ratio < 1:
        raise ValueError(f"merge_ratio must be 1 or more, got {merge_ratio}")
    s = _similarity(similarity)
    n = s.shape[0]
    if n == 0:
        raise ValueError("similarity must have at least one row")
    names_of = list(class_names) if class_names is not None else [f"class {i}" for i in range(n)]
    if len(names_of) != n:
        raise ValueError(f"class_names has {len(names_of)} names for {n} classes")
    if n == 1:
        return BuiltHierarchy([names_of[0]], np.array([-1]), np.array([0]))
    names: list[str] = []
    parent: list[int] = []
    class_index: list[int] = []
    # (group, parent node, name); children are pushed in reverse so nodes come out in pre-order.
    stack: list[tuple[SplitGroup, int, str]] = [(split_tree(s, method, min_ratio), -1, "all")]
    while stack:
        group, up, name = stack.pop()
        if len(group.members) == 1:
            c = int(group.members[0])
            names.append(names_of[c])
            parent.append(up)
            class_index.append(c)
            continue
        node = len(names)
        names.append(name)
        parent.append(up)
        class_index.append(-1)
        children = _flatten(group, merge_ratio) if group.parts else [SplitGroup(group.members[i : i + 1])
                                                                     for i in range(len(group.members))]
        prefix = "block " if up < 0 else f"{name}."
        for i, child in reversed(list(enumerate(children, start=1))):
            stack.append((child, node, f"{prefix}{i}"))
    built = BuiltHierarchy(names, np.array(parent, dtype=np.int64), np.array(class_index, dtype=np.int64))
    problem = tree_arrays_problem(built.parent, built.class_index, n)
    if problem:  # a bug here, not a user error: the arrays are built to be valid
        raise AssertionError(problem)
    return built
