"""Analysis: pure numpy/scipy functions over the cache's arrays.

Never imports Textual or torch.  Shapes and dtypes are documented on each
function; nothing here keeps hidden state, so notebooks can call it directly.
"""

from .confusion import ConfusionPair, confusion_matrix, top_confusions, within_group_fraction
from .hierarchy import Tree
from .metrics import GroupMetrics, group_metrics, topk_accuracy
from .summary import Summary, lowest_common_ancestor, summarize

__all__ = [
    "ConfusionPair",
    "GroupMetrics",
    "Summary",
    "Tree",
    "confusion_matrix",
    "group_metrics",
    "lowest_common_ancestor",
    "summarize",
    "top_confusions",
    "topk_accuracy",
    "within_group_fraction",
]
