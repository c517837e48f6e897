"""How much the response map's relevant neurons stand out on the demo: the issue-18 figure.

For each group at depth 1 and 2, its most relevant neuron (Eq. 2, over every
sample) is drawn the way the viewer draws it, at the viewer's default T, and
the share of its yellow cells on the group's rows is set against the share on
the other rows.  Fig. 3 of the paper shows such a neuron yellow on its
group and blue elsewhere; a ratio of 3 or more is what "stands out" means here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Tree
from ..analysis.response_view import build_layer_view, yellow_shares
from ..cache import Cache

CONTRAST_GOAL = 3.0
"""Yellow share on a group's rows over the share elsewhere, for the group's most relevant neuron."""


@dataclass(frozen=True)
class GroupContrast:
    layer: str
    group: str
    depth: int
    channel: int
    inside: float  # share of the neuron's cells on the group's rows drawn yellow
    outside: float  # the same on every other row

    @property
    def ratio(self) -> float:
        return self.inside / self.outside if self.outside > 0 else float("inf") if self.inside > 0 else float("nan")


def group_contrasts(cache: Cache, threshold: float, depths: tuple[int, ...] = (1, 2)) -> list[GroupContrast]:
    """Every layer × every inner group at ``depths``: its most relevant neuron's yellow shares."""
    tree = Tree.from_hierarchy(cache.hierarchy)
    labels = np.asarray(cache.labels, dtype=np.int64)
    groups = [(g, int(tree.depth[g])) for g in tree.preorder() if tree.depth[g] in depths and not tree.is_leaf(g)]
    out = []
    for name in cache.layer_names:
        layer = cache.layer(name)
        view = build_layer_view(name, layer.class_mean(), layer.collective(), labels, tree.n_classes)
        layer.release()
        for group, depth in groups:
            in_group = np.zeros(tree.n_classes, dtype=bool)
            in_group[tree.classes_of(group)] = True
            channel = int(np.nanargmax(view.relevance(in_group[labels])))
            inside, outside = yellow_shares(view, in_group, channel, threshold)
            out.append(GroupContrast(name, tree.names[group], depth, channel, inside, outside))
    return out
