"""What the status line says about a selection, and the header's facts, as text (no widgets, no state).

The status line and the sample pane describe the same selection; these
builders take what the model computed (a cell's counts, a node's metrics, a
neuron's mean response) and word it.  :mod:`blocks_tui.tui.selection_flow`
picks which one applies.
"""

from __future__ import annotations

from rich.text import Text

from ..numbers import metrics_line, percent
from .model import CellInfo, NodeStats, ViewerModel


def header_facts(model: ViewerModel, channel: int | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs for the header: result set, filters, metric (or the response map's neuron),
    sort, scale and the samples kept."""
    f = model.filters
    metric = f"neuron #{channel} response" if channel is not None else model.metric_label()
    return [("result", f.result + (f" vs {f.compare}" if model.delta else "")),
            ("filters", ", ".join(f.describe()) or "none"), ("metric", metric), ("sort", model.sort),
            ("scale", model.scale), ("samples", f"{model.kept:,}")]


def cell_status(info: CellInfo, prefix: str = "") -> Text:
    """``true a → predicted b · 47 (3.1% of the row)``: the cell (or bin) under the matrix cursor."""
    return Text.assemble(
        (prefix, "bold"),
        ("true ", "dim"), (info.true, "bold"), ("  →  predicted ", "dim"), (info.predicted, "bold"),
        ("  ·  ", "dim"), (f"{info.count:,}", "bold cyan"),
        ("" if info.share is None else f" ({percent(info.share)} of the row)", "dim"),
        ("  (diagonal, hidden: d shows it)" if info.hidden else "  (diagonal)" if info.diagonal else "", "dim"),
    )


def node_status(stats: NodeStats, prefix: str = "") -> Text:
    """``node vehicles · 12 classes · P 81.0% R 77.2% F1 79.1%``: a tree node and its group metrics."""
    return Text.assemble(
        (prefix, "bold"), ("node ", "dim"), (stats.name, "bold"),
        ("  ·  ", "dim"), (f"{stats.classes:,} {'class' if stats.classes == 1 else 'classes'}", "bold cyan"),
        ("  ·  ", "dim"),
        (metrics_line(stats.precision, stats.recall, stats.f1, gap="  "), ""),
    )


def picked_status(kind: str, title: str, cell: Text) -> Text:
    """``outlier a → b (part-of) · true a → predicted b · 3``: a row picked from a list, then its cell.

    The pane titles such a selection with its row, and the cell under the
    cursor may be a bin of several classes: the row's own words come first.
    """
    return Text.assemble((f"{kind} ", "dim"), (title, "bold"), ("  ·  ", "dim"), cell)


def neuron_status(row_name: str, channel: int, rank: str, value: float, ranked_at: float,
                  threshold: float) -> Text:
    """``row vehicles · neuron #12 (rank 1, R = 0.93) · mean response 0.41, above 96% of its cells``: the
    response map's cursor; ``value`` is scaled to the neuron's range, ``ranked_at`` the share of the
    neuron's cells its best cell here exceeds, yellow at or above T as on the map."""
    return Text.assemble(
        ("row ", "dim"), (row_name, "bold"), ("  ·  neuron ", "dim"), (f"#{channel}", "bold"),
        (f" ({rank})", "dim"), ("  ·  mean response ", "dim"), (f"{value:.2f}", "bold"),
        (", above ", "dim"), (f"{int(100 * ranked_at)}%", "bold yellow" if ranked_at >= threshold else "bold"),
        (" of its cells", "dim"),
    )


def threshold_meaning(threshold: float) -> str:
    """What T paints yellow, for the response map's title: `` (yellow: each neuron's top 10%)``."""
    top = round(100 * (1 - threshold))
    return f" (yellow: each neuron's top {top}%)" if top > 0 else " (yellow: none)"
