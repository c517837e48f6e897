"""``blocks-tui probe`` and ``bench probe``: held-out accuracy of each layer's linear probe, and its cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..safe_text import plain, printable

if TYPE_CHECKING:
    from ..extract.probe import LayerProbe, ProbeSettings


def render_probes(console: Console, results: Sequence[LayerProbe], settings: ProbeSettings) -> None:
    """One row per probed layer: its result set, features, held-out top-1/top-5 and seconds."""
    table = Table(title=f"linear probes, held-out (2-fold cross-fitting), {settings.engine} on {settings.device}",
                  title_justify="left")
    for column in ("result set", "features", "top-1", "top-5", "seconds"):
        table.add_column(column, justify="left" if column in ("result set", "features") else "right")
    for r in results:
        table.add_row(plain(r.result_name), f"{r.n_features:,} {r.features}", f"{100 * r.top1:.1f}%", f"{100 * r.top5:.1f}%",
                      f"{r.seconds:.1f}")
    console.print(table)


def render_probe_bench(console: Console, cache_name: str, layers: Sequence[str],
                       engines: Sequence[ProbeSettings], runs: Sequence[Sequence[LayerProbe]]) -> None:
    """Seconds and held-out top-1 per layer for each engine side by side, the totals, and their ratio."""
    names = [f"{e.engine} ({e.device})" for e in engines]
    table = Table(title=Text(printable(f"probe {cache_name}: seconds per layer (both folds) and held-out top-1")),
                  title_justify="left")
    table.add_column("layer")
    for name in names:
        table.add_column(f"{name} s", justify="right")
        table.add_column(f"{name} top-1", justify="right")
    for i, layer in enumerate(layers):
        table.add_row(plain(f"{layer} ({runs[0][i].n_features:,})"),
                      *(cell for run in runs for cell in (f"{run[i].seconds:.1f}", f"{100 * run[i].top1:.1f}%")))
    totals = [sum(r.seconds for r in run) for run in runs]
    table.add_row("all layers", *(cell for t in totals for cell in (f"{t:.1f}", "")))
    console.print(table)
    print(f"ratio: {names[1]} takes {totals[1] / totals[0]:.2f}x the time of {names[0]} "
          f"({engines[0].steps_per_fold} L-BFGS iterations vs {engines[1].steps_per_fold} Adam epochs per fold)")
