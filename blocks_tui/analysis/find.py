"""Finding a class, a group or a sample by what the user types (the viewer's ``/``).

With a thousand classes and as many groups, scrolling the tree to "coral"
is no way to triage; typing ``cor`` should be.  Names are matched case
blind, best first: the whole name, then a prefix, then the start of a word
inside it ("reef" finds "coral-reef"), then any substring, then the letters
in order ("grn blb" finds "green-blob").  Class ids (WordNet ``n01440764``)
match too, and ``#123`` (or a bare number) names sample 123.  Pure Python
over the tree's names: O(nodes) per keystroke, no samples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .hierarchy import Tree

_WORD_START = re.compile(r"(?:^|[\s_\-./:,()])(\w)")


@dataclass(frozen=True)
class Found:
    """One match: a class (``index`` = class number), a group (tree node) or a sample (sample id)."""

    kind: str
    index: int
    name: str  # what is shown and matched: the class or group name, or "#id"
    detail: str  # where it sits: the class's group, the group's size, the sample's label


def match_rank(query: str, text: str) -> tuple[int, int, int] | None:
    """How well ``text`` matches ``query`` (lower is better), or None.

    (tier, where, length): tier 0 whole name, 1 prefix, 2 start of a word,
    3 substring, 4 letters in order; then earlier matches and shorter names.
    """
    q, t = query.casefold().strip(), text.casefold()
    if not q:
        return None
    if t == q:
        return (0, 0, len(t))
    if t.startswith(q):
        return (1, 0, len(t))
    for word in _WORD_START.finditer(t):
        if t.startswith(q, word.start(1)):
            return (2, word.start(1), len(t))
    at = t.find(q)
    if at >= 0:
        return (3, at, len(t))
    first = _subsequence_start(q.replace(" ", ""), t)
    return None if first is None else (4, first, len(t))


def _subsequence_start(q: str, t: str) -> int | None:
    """Where the letters of ``q`` begin in ``t`` if they all appear there in order."""
    position, first = 0, None
    for letter in q:
        position = t.find(letter, position)
        if position < 0:
            return None
        first = position if first is None else first
        position += 1
    return first


def find(query: str, tree: Tree, class_names: Sequence[str], class_ids: Sequence[str] | None = None,
         labels: np.ndarray | None = None, limit: int = 20) -> list[Found]:
    """The best ``limit`` classes, groups and samples for ``query`` in ``tree`` (the tree on screen).

    A sample comes first when the query is ``#N``; a bare number lists sample N after any name that
    matches it.  Groups are the tree's internal nodes; the root is skipped (it is everything).
    """
    query = query.strip()
    found: list[tuple[tuple[int, int, int], int, Found]] = []
    parent_name = {int(c): _group_of(tree, node) for node, c in enumerate(tree.class_index) if c >= 0}
    for c, name in enumerate(class_names):
        by_name = match_rank(query, name)
        by_id = match_rank(query, class_ids[c]) if class_ids is not None else None
        if by_name or by_id:
            where = f"in {parent_name.get(c, '?')}"
            if by_id and (not by_name or by_id < by_name):  # say why it matched: the id is not on screen
                where = f"{class_ids[c]} · {where}"  # type: ignore[index]
            found.append((min(r for r in (by_name, by_id) if r), 0, Found("class", c, name, where)))
    for node in range(1, tree.n_nodes):
        if tree.class_index[node] < 0:
            rank = match_rank(query, tree.names[node])
            if rank is not None:
                size = tree.size(node)
                found.append((rank, 1, Found("group", node, tree.names[node],
                                             f"{size} class{'es' if size != 1 else ''}")))
    found.sort(key=lambda item: (item[0], item[1], item[2].name))
    matches = [f for _, _, f in found]
    sample = _sample(query, labels, class_names)
    if sample is not None:  # "#N" first; a bare number after the names it equals or starts, before the rest
        close = sum(rank[0] <= 1 for rank, _, _ in found)
        matches.insert(0 if query.startswith("#") else min(close, limit - 1), sample)
    return matches[:limit]


def _group_of(tree: Tree, node: int) -> str:
    up = int(tree.parent[node])
    return tree.names[up] if up >= 0 else "the root"


def _sample(query: str, labels: np.ndarray | None, class_names: Sequence[str]) -> Found | None:
    digits = query[1:] if query.startswith("#") else query
    # isdigit() also takes "²" (a key of its own on French keyboards), which int() refuses; and 19 digits
    # are past any sample count while staying far below int()'s limit on long strings.
    if labels is None or not (digits.isascii() and digits.isdecimal()) or len(digits) > 18:
        return None
    sample = int(digits)
    if sample >= len(labels):
        return None
    return Found("sample", sample, f"#{sample}", f"labelled {class_names[int(labels[sample])]}")
