"""Plain-terminal reports (``info``, ``summary``) drawn with rich.

These work without a TTY: rich drops colour and keeps the tables when output
goes to a pipe or a file, so the same commands serve scripts and people.
Everything read from the cache (its path, names, sources, attributes) is
handed to rich as :func:`~blocks_tui.safe_text.plain` text: a ``str`` cell
or title would be parsed as markup, and control characters would reach the
terminal.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from .analysis.summary import Summary
from .cache import Cache
from .safe_text import json_escaped, plain, printable


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _score(value: float | None) -> Text:
    """A 0–1 score as a percentage, red to green, or a dash when undefined."""
    if value is None:
        return Text("—", style="dim")
    style = "green" if value >= 0.9 else "yellow" if value >= 0.7 else "red"
    return Text(f"{100 * value:5.1f}", style=style)


def render_info(console: Console, cache: Cache) -> None:
    """What the cache holds: configuration, sections and bytes on disk."""
    head = Table.grid(padding=(0, 2))
    head.add_column(no_wrap=True)
    head.add_column(overflow="fold")
    head.add_row("file", plain(cache.path))
    head.add_row("format", plain(f"version {cache.format_version}, written by {cache.producer} at {cache.created}"))
    head.add_row("samples", f"{cache.n_samples:,}  (thumbnails {'×'.join(map(str, cache.thumbnail_shape))})")
    head.add_row("classes", f"{cache.n_classes:,}" + ("  with external ids" if cache.class_ids else ""))
    head.add_row("hierarchy", plain(f"{len(cache.hierarchy.names):,} nodes from {cache.hierarchy.source}"))
    head.add_row("result sets", plain(", ".join(cache.result_names)))
    layers = [cache.layer(name) for name in cache.layer_names]
    head.add_row(
        "layers",
        plain(", ".join(f"{l.name} ({l.channels} ch, {l.d}×{l.d}{', maps' if l.has_maps else ''})" for l in layers)
              or "none"),
    )
    if cache.skipped:
        shown = ", ".join(f"{source} ({reason})" for source, reason in cache.skipped[:3])
        more = f", and {len(cache.skipped) - 3} more" if len(cache.skipped) > 3 else ""
        head.add_row("skipped", plain(f"{len(cache.skipped)} inputs: {shown}{more}"))
    console.print(head)
    console.print(Text("configuration", style="bold"))
    # Not print_json: rich re-dumps with ensure_ascii=False, which lets DEL, C1 and bidi controls through.
    config = JSONHighlighter()(Text(json_escaped(json.dumps(cache.config, indent=2, ensure_ascii=False))))
    config.no_wrap, config.overflow = True, None
    console.print(config, soft_wrap=True)
    table = Table(title="datasets", title_justify="left")
    # The path column folds; the short columns keep their full width at 80 columns.
    table.add_column("path", overflow="fold")
    for column, width in (("shape", 5), ("dtype", 7), ("size", 9), ("on disk", 9), ("storage", 7)):
        table.add_column(column, justify="right" if width == 9 else "left", no_wrap=True, min_width=width)
    total = 0
    for info in cache.describe():
        total += info.stored_bytes
        storage = info.compression or ("chunked" if info.chunks else "plain")
        table.add_row(plain(info.path), "×".join(map(str, info.shape)) or "scalar", plain(info.dtype),
                      _bytes(info.nbytes), _bytes(info.stored_bytes), storage)
    table.add_section()
    table.add_row("total", "", "", "", _bytes(total), "")
    console.print(table)


def render_summary(console: Console, summary: Summary, title: str) -> None:
    """Accuracy per result set, group metrics per node, and the top confusions."""
    console.print(plain(title, style="bold"))
    acc = Table(title="accuracy per result set", title_justify="left")
    acc.add_column("result set")
    acc.add_column("top-1 %", justify="right")
    acc.add_column("top-5 %", justify="right")
    acc.add_column("confusions inside top-level groups %", justify="right")
    for row in summary.accuracy:
        acc.add_row(plain(row.name), _score(row.top1), _score(row.top5), _score(row.within_top_groups))
    console.print(acc)

    nodes = Table(title=Text(printable(f"group metrics on {summary.result!r} (paper Eq. 1)")), title_justify="left")
    for column in ("node", "classes", "samples", "precision %", "recall %", "F1 %"):
        nodes.add_column(column, justify="left" if column == "node" else "right")
    for row in summary.nodes:
        nodes.add_row(plain("  " * row.depth + row.name), str(row.classes), str(row.support),
                      _score(row.precision), _score(row.recall), _score(row.f1))
    console.print(nodes)

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
