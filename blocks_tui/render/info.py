"""``blocks-tui info``: what a cache holds, its configuration, and the bytes each dataset takes."""

from __future__ import annotations

import json

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from ..cache import Cache
from ..safe_text import json_escaped, plain
from .cells import byte_size


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
                      byte_size(info.nbytes), byte_size(info.stored_bytes), storage)
    table.add_section()
    table.add_row("total", "", "", "", byte_size(total), "")
    console.print(table)
