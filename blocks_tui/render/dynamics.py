"""``blocks-tui dynamics``: when each group's recall settled, per epoch, and the sentence that sums it up."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..safe_text import plain, printable
from .cells import maybe

MAX_EPOCH_COLUMNS = 10
"""More epochs than this show the first, the middle and the last only."""


def render_dynamics(console: Console, report: dict[str, Any], epochs: Sequence[int], title: str,
                    tolerance: float, level: int) -> None:
    """The settling table of ``report`` (:func:`~blocks_tui.analysis.dynamics.dynamics_report`) over
    ``epochs``, then one line comparing the groups at depth ``level`` with the leaf classes."""
    shown = list(range(len(epochs))) if len(epochs) <= MAX_EPOCH_COLUMNS else [0, len(epochs) // 2, len(epochs) - 1]
    table = Table(title=Text(f"{printable(title)}\nfirst epoch with recall within {tolerance:g} points of its "
                             "final value"),
                  title_justify="left")
    for column in ("node", "classes", *(f"e{epochs[i]} %" for i in shown), "settled at"):
        table.add_column(column, justify="left" if column == "node" else "right")
    for g in report["groups"]:
        table.add_row(plain(g["name"]), str(g["classes"]), *(maybe(g["recall"][i]) for i in shown), maybe(g["settled"]))
    for row in report["levels"]:
        name = "all leaves" if row["leaves"] else f"all depth {row['depth']}"
        table.add_row(f"[dim]{name}[/]", "", *(maybe(row["recall"][i]) for i in shown), maybe(row["settled"]))
    console.print(table)
    leaves = report["leaves"]
    median = leaves["median_settled"]
    groups = [g["settled"] for g in report["groups"] if g["settled"] is not None]
    print(f"depth-{level} groups settle at epoch {min(groups)}-{max(groups)} (median {float(np.median(groups)):g}); "
          f"the {leaves['count']} leaf classes at median epoch {median:g} (quartiles "
          f"{leaves['quartiles_settled'][0]:g}-{leaves['quartiles_settled'][1]:g})." if groups and median is not None
          else "not enough samples to compare groups and leaf classes.")
