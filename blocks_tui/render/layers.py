"""``blocks-tui extract --list-layers``: a model's candidate layers and the ones ``--layers auto`` picks."""

from __future__ import annotations

from typing import Iterable

from rich.console import Console
from rich.table import Table

from ..safe_text import plain


def render_layers(console: Console, model: str, layers: Iterable[tuple[str, tuple[int, ...], bool]]) -> None:
    """One row per ``(name, output shape of one sample, chosen by auto)``."""
    table = Table(title=plain(f"layers of {model} (* = chosen by --layers auto)"))
    for column in ("", "name", "output shape (one sample)"):
        table.add_column(column)
    for name, shape, chosen in layers:
        table.add_row("*" if chosen else "", plain(name), "×".join(map(str, shape)))
    console.print(table)
