"""Analysis: pure numpy/scipy functions over the cache's arrays.

Never imports Textual or torch.  Shapes and dtypes are documented on each
function; nothing here keeps hidden state, so notebooks can call it directly.

The two entry points most notebooks start from::

    order = seriate(confusion_similarity(matrix), method="spectral")
    blocks = partition(similarity[np.ix_(order, order)], n_blocks=8)
"""

from .agreement import adjusted_rand_index
from .hierarchy_builder import BuiltHierarchy, build_hierarchy
from .cells import CellCounts
from .confusion import ConfusionPair, confusion_matrix, top_confusions, within_group_fraction
from .filters import ConfusionFilter, FilteredConfusion, filtered_confusion, sample_mask
from .hierarchy import Tree
from .leaf_ordering import min_plus, optimal_leaf_order, order_cost
from .metrics import (
    GroupMetrics,
    MetricChange,
    NodeSamples,
    group_metrics,
    group_metrics_from_counts,
    metric_change,
    rank_change,
    topk_accuracy,
)
from .mislabels import MislabelCandidates, mislabel_candidates
from .outliers import BlockOutliers, block_outliers
from .partitioning import auto_partition, block_labels, modularity, partition
from .pyramid import Pyramid, bin_edges
from .relevance import (
    ResponseIndex,
    node_average_response,
    peak_channel_order,
    response_map,
    top_activating,
    top_neurons,
)
from .seriation import barycenter_order, fiedler_vector, leaf_order, refine, seriate, spectral_order
from .similarity import confusion_similarity
from .subclasses import LatentSubclasses, latent_subclasses, response_correlation
from .summary import Summary, summarize
from .probes import LayerSeparation, layer_separation, probe_columns
from .triage import (
    KindThresholds,
    MislabelRow,
    OutlierRow,
    SensitiveGroup,
    rank_mislabels,
    rank_outliers,
    sensitive_groups,
)
from .dynamics import Settling, dynamics_report, epoch_series, settling_epochs

__all__ = [
    "BlockOutliers",
    "BuiltHierarchy",
    "CellCounts",
    "ConfusionFilter",
    "ConfusionPair",
    "FilteredConfusion",
    "GroupMetrics",
    "LatentSubclasses",
    "MetricChange",
    "MislabelCandidates",
    "NodeSamples",
    "Pyramid",
    "ResponseIndex",
    "Summary",
    "Tree",
    "adjusted_rand_index",
    "auto_partition",
    "barycenter_order",
    "bin_edges",
    "block_labels",
    "block_outliers",
    "build_hierarchy",
    "confusion_matrix",
    "confusion_similarity",
    "fiedler_vector",
    "filtered_confusion",
    "group_metrics",
    "group_metrics_from_counts",
    "latent_subclasses",
    "leaf_order",
    "metric_change",
    "min_plus",
    "mislabel_candidates",
    "modularity",
    "node_average_response",
    "optimal_leaf_order",
    "order_cost",
    "partition",
    "peak_channel_order",
    "rank_change",
    "refine",
    "response_correlation",
    "response_map",
    "sample_mask",
    "seriate",
    "spectral_order",
    "summarize",
    "top_activating",
    "top_confusions",
    "top_neurons",
    "topk_accuracy",
    "within_group_fraction",
    "LayerSeparation",
    "layer_separation",
    "probe_columns",
    "KindThresholds",
    "MislabelRow",
    "OutlierRow",
    "SensitiveGroup",
    "rank_mislabels",
    "rank_outliers",
    "sensitive_groups",
    "Settling",
    "dynamics_report",
    "epoch_series",
    "settling_epochs",
]
