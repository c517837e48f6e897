"""``blocks-tui summary``: accuracy per result set, group metrics per node, the top confusions.

As tables for a person, or as JSON (:func:`summary_json`) for scripts.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analysis.summary import Summary
from ..cache import Cache
from ..safe_text import plain, printable
from .cells import score


def summary_title(cache: Cache) -> str:
    """The cache, its model and data set, and its size, above the tables."""
    model = cache.config.get("model", "unknown model")
    data = cache.config.get("dataset", "unknown data")
    return f"{cache.path}: {model} on {data}, {cache.n_samples:,} samples, {cache.n_classes} classes"


def render_summary(console: Console, summary: Summary, title: str, depth: int | None = None) -> None:
    """Accuracy per result set, group metrics per node down to ``depth`` (all: None), and the top confusions."""
    console.print(plain(title, style="bold"))
    acc = Table(title="accuracy per result set", title_justify="left")
    acc.add_column("result set")
    acc.add_column("top-1 %", justify="right")
    acc.add_column("top-5 %", justify="right")
    acc.add_column("confusions inside top-level groups %", justify="right")
    for row in summary.accuracy:
        acc.add_row(plain(row.name), score(row.top1), score(row.top5), score(row.within_top_groups))
    console.print(acc)

    nodes = Table(title=Text(printable(f"group metrics on {summary.result!r} (paper Eq. 1)")), title_justify="left")
    for column in ("node", "classes", "samples", "precision %", "recall %", "F1 %"):
        nodes.add_column(column, justify="left" if column == "node" else "right")
    shown = [row for row in summary.nodes if depth is None or row.depth <= depth]
    for row in shown:
        nodes.add_row(plain("  " * row.depth + row.name), str(row.classes), str(row.support),
                      score(row.precision), score(row.recall), score(row.f1))
    console.print(nodes)
    if len(shown) < len(summary.nodes):
        console.print(Text(f"{len(summary.nodes) - len(shown):,} deeper nodes not shown: --depth N shows them, "
                           "--json lists every node", style="dim"))

    pairs = Table(title=Text(printable(f"top confusions on {summary.result!r}")), title_justify="left")
    for column in ("true class", "predicted as", "count", "% of true class", "common ancestor"):
        pairs.add_column(column, justify="right" if column in ("count", "% of true class") else "left")
    for pair in summary.pairs:
        pairs.add_row(plain(pair.true), plain(pair.predicted), str(pair.count), f"{100 * pair.share_of_true:.1f}",
                      plain(pair.common_ancestor))
    console.print(pairs)


def summary_json(summary: Summary, cache: Cache) -> str:
    """The summary as JSON, with the cache's identity, for scripts."""
    payload: dict[str, Any] = {
        "cache": str(cache.path),
        "samples": cache.n_samples,
        "classes": cache.n_classes,
        **summary.to_dict(),
    }
    return json.dumps(payload, indent=2, allow_nan=False)
