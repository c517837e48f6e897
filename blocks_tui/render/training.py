"""``blocks-tui train``: the baseline's and the hierarchy-aware model's errors per epoch (paper Table 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from ..safe_text import printable

if TYPE_CHECKING:
    from ..extract.train_command import TrainReport


def render_training(console: Console, report: TrainReport, data: str, aux_weight: float) -> None:
    """The per-epoch error table, when the hierarchy-aware model reached the baseline, and what was written."""
    heads = ", ".join(f"depth-{h['depth']} groups ({h['groups']}) after {h['stage']}" for h in report.aux_heads)
    table = Table(title=f"top-1 / top-5 error % on the evaluation split ({data}, seed {report.seed}, "
                  f"{report.device}, {report.seconds:.0f} s)\nhierarchy-aware: + {heads}, weight {aux_weight:g} each",
                  title_justify="left")
    for column in ("epoch", "baseline top-1", "top-5", "hierarchy-aware top-1", "top-5"):
        table.add_column(column, justify="right")
    base1, base5 = report.top1_error["baseline"], report.top5_error["baseline"]
    aware1, aware5 = report.top1_error["hierarchy-aware"], report.top5_error["hierarchy-aware"]
    for e in range(report.epochs):
        table.add_row(str(e + 1), f"{100 * base1[e]:.1f}", f"{100 * base5[e]:.1f}",
                      f"{100 * aware1[e]:.1f}", f"{100 * aware5[e]:.1f}")
    console.print(table)
    reached = report.epochs_to_baseline()
    print(f"hierarchy-aware reaches the baseline's final top-1 error ({100 * base1[-1]:.1f}%) "
          + (f"at epoch {reached} of {report.epochs}." if reached else "at no epoch.")
          + f" Final top-1 error: baseline {100 * base1[-1]:.1f}%, hierarchy-aware {100 * aware1[-1]:.1f}%.")
    print(printable(f"Wrote {report.cache} (result sets baseline, hierarchy-aware and NAME:epoch-N) and "
                    f"{report.model_dir}/."))
