"""``blocks-tui bench open``, ``bench extract`` and ``bench demo``: each measurement beside its baseline.

(``bench analysis``, ``bench ui`` and ``bench probe`` print the plain-text
tables their benchmarks format, and :mod:`.probes`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..bench.cache_open import OpenBenchResult, RowReadTiming
    from ..bench.demo import DemoBench
    from ..bench.extract import ExtractBenchResult
    from ..extract.runner import ExtractPlan


def render_open_bench(console: Console, r: OpenBenchResult, rows: Sequence[RowReadTiming]) -> None:
    """Opening against reading everything, then scattered row reads through the cache against h5py."""
    console.print(
        f"cache: {r.samples:,} samples, {r.classes:,} classes, {r.file_bytes / 2**20:.0f} MiB on disk\n"
        f"open_cache + first lookup: {1000 * r.open_seconds:8.1f} ms, RSS +{r.open_rss_bytes / 2**10:.0f} KiB\n"
        f"baseline, h5py read all:   {1000 * r.read_all_seconds:8.1f} ms, {r.read_all_bytes / 2**20:.0f} MiB of arrays\n"
        f"ratio: opening is {r.speedup:.0f}x faster than reading everything"
    )
    console.print("\nscattered rows, warm (median): through the cache vs. h5py fancy indexing")
    for t in rows:
        console.print(f"  {t.dataset:<24} {t.rows:>6,} rows  {1000 * t.cache_seconds:8.2f} ms vs. "
                      f"{1000 * t.h5py_seconds:8.2f} ms   {t.speedup:.1f}x")


def render_extract_bench(console: Console, r: ExtractBenchResult, plan: ExtractPlan, data: str, model: str) -> None:
    """The plain loop's and the full extraction's throughput, and their ratio."""
    console.print(
        f"{r.samples:,} samples of {data} through {model} on {r.device}, batch {plan.batch_size}, "
        f"{plan.workers} workers, variants {','.join(plan.variants)}, {len(plan.layers)} layers\n"
        f"baseline, plain loop (forward + top-k): {r.plain_rate:8.1f} samples/s\n"
        f"full extraction (hooks, sums, writes):  {r.extract_rate:8.1f} samples/s\n"
        f"ratio: extraction runs at {r.ratio:.2f}x the plain loop"
    )


def render_demo_bench(console: Console, result: DemoBench, fast: bool, goal_seconds: float) -> None:
    """How long the whole demo took, and each planted property against its goal."""
    table = Table(title=f"{'fast' if fast else 'full'} demo: generate, train, evaluate, write in "
                  f"{result.seconds:.1f} s (goal <= {goal_seconds:g} s)", title_justify="left")
    for column in ("planted property", "value", "goal", ""):
        table.add_column(column, justify="right" if column == "value" else "left")
    for check in result.checks:
        table.add_row(check.name, f"{check.value:.1f}", check.goal, "ok" if check.passed else "MISSED")
    console.print(table)
    render_contrasts(console, result)


def render_contrasts(console: Console, result: DemoBench) -> None:
    """The response map's figure: per layer, how much each group's most relevant neuron stands out."""
    from ..analysis.response_view import DEFAULT_THRESHOLD
    from ..demo.response_checks import CONTRAST_GOAL

    layers = list(dict.fromkeys(c.layer for c in result.contrasts))
    groups = list(dict.fromkeys(c.group for c in result.contrasts))
    goal = f"goal >= {CONTRAST_GOAL:g}x at {layers[-1] if layers else '-'}"
    table = Table(title=f"response map at T = {DEFAULT_THRESHOLD:g}: yellow share on a group's rows / elsewhere, "
                  f"for the group's most relevant neuron ({goal})", title_justify="left")
    table.add_column("group")
    for layer in layers:
        table.add_column(layer, justify="right")
    by = {(c.layer, c.group): c for c in result.contrasts}
    for group in groups:
        table.add_row(group, *[_ratio(by[layer, group].ratio) if (layer, group) in by else "–" for layer in layers])
    console.print(table)


def _ratio(value: float) -> str:
    """``12.3x``; ``only in`` where no cell outside the group is yellow, ``–`` where none is at all."""
    if value != value:
        return "–"
    return "only in" if value == float("inf") else f"{value:.1f}x"
