"""The numbers behind ``blocks-tui summary``: accuracy, group metrics, top confusions.

Pure arrays in, a plain dataclass out, so the CLI can print it with rich or
as JSON and a notebook can use it as it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ._checks import topk_rows
from .confusion import top_confusions_of, within_group_fraction_of
from .hierarchy import Tree
from .metrics import group_metrics, topk_accuracy


@dataclass(frozen=True)
class ResultAccuracy:
    name: str
    top1: float | None  # None where undefined (no samples, no confusions)
    top5: float | None
    within_top_groups: float | None  # share of confusions inside the top-level groups


@dataclass(frozen=True)
class NodeRow:
    node: int
    name: str
    depth: int
    classes: int
    support: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class PairRow:
    true: str
    predicted: str
    count: int
    share_of_true: float  # count / samples of the true class
    common_ancestor: str


@dataclass(frozen=True)
class Summary:
    result: str  # the result set the node metrics and pairs describe
    accuracy: list[ResultAccuracy]
    nodes: list[NodeRow]
    pairs: list[PairRow]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def summarize(
    tree: Tree,
    class_names: Sequence[str],
    labels: np.ndarray,
    topk_by_result: Mapping[str, np.ndarray],
    result: str,
    max_depth: int | None = None,
    top_pairs: int = 10,
) -> Summary:
    """Summarise every result set's accuracy and one result set's groups and pairs.

    ``topk_by_result`` maps result-set names to (samples, k) top-k indices.
    """
    if result not in topk_by_result:
        raise KeyError(f"no result set {result!r}; have {', '.join(topk_by_result)}")
    topk_by_result = {name: topk_rows(topk, len(labels), f"top-k of {name!r}") for name, topk in topk_by_result.items()}
    accuracy = []
    for name, topk in topk_by_result.items():
        accuracy.append(
            ResultAccuracy(
                name=name,
                top1=_finite(topk_accuracy(labels, topk, 1)),
                top5=_finite(topk_accuracy(labels, topk, min(5, topk.shape[1]))),
                within_top_groups=_finite(within_group_fraction_of(labels, topk[:, 0], tree, depth=1)),
            )
        )
    predicted = topk_by_result[result][:, 0]
    metrics = group_metrics(tree, labels, predicted)
    nodes = [
        NodeRow(
            node=i,
            name=tree.names[i],
            depth=int(tree.depth[i]),
            classes=tree.size(i),
            support=int(metrics.true_count[i]),
            precision=_finite(metrics.precision[i]),
            recall=_finite(metrics.recall[i]),
            f1=_finite(metrics.f1[i]),
        )
        for i in range(tree.n_nodes)
        if max_depth is None or tree.depth[i] <= max_depth
    ]
    class_sizes = np.bincount(labels, minlength=tree.n_classes)
    top = top_confusions_of(labels, predicted, tree.n_classes, top_pairs)  # no classes² matrix at 10k classes
    common = tree.common_ancestors(np.array([p.true for p in top], dtype=np.int64),
                                   np.array([p.predicted for p in top], dtype=np.int64))
    pairs = [
        PairRow(
            true=class_names[p.true],
            predicted=class_names[p.predicted],
            count=p.count,
            share_of_true=p.count / class_sizes[p.true],
            common_ancestor=tree.names[int(node)],
        )
        for p, node in zip(top, common)
    ]
    return Summary(result=result, accuracy=accuracy, nodes=nodes, pairs=pairs)
