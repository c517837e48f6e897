"""A rich progress bar for extraction: samples, samples/s and ETA."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..safe_text import printable
from .runner import ExtractPlan, extract


def run_with_progress(plan: ExtractPlan, console: Console) -> Path | None:
    """Run the plan with a progress bar on ``console``; returns what :func:`extract` returns."""
    columns = (
        TextColumn("[bold]extract"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=console, transient=False)
    task = bar.add_task("extract", total=None, rate="")

    def report(advance: int, total: int) -> None:
        if total:  # the first call, once the run is set up: resumed samples and the shard's total
            bar.start()  # not before: a run refused at setup (a lock, a changed checkpoint) prints one line only
            bar.update(task, total=total, completed=advance)
            return
        bar.advance(task, advance)
        speed = bar.tasks[task].speed
        bar.update(task, rate=f"{speed:,.0f} samples/s" if speed else "")

    try:
        merged = extract(plan, progress=report)
    finally:
        if bar.live.is_started:
            bar.stop()
    if merged is not None:
        _report_skipped(merged, console)
    return merged


def _report_skipped(path: Path, console: Console) -> None:
    """Say how many inputs were skipped, as the README promises: they are easy to miss in a big run."""
    from ..cache import open_cache

    with open_cache(path) as cache:
        skipped = cache.skipped
    if skipped:
        console.print(f"Skipped {len(skipped):,} unreadable or non-image input{'s' if len(skipped) != 1 else ''} "
                      f"(listed in the cache under skipped/, e.g. {printable(skipped[0][0])}: {printable(skipped[0][1])}).",
                      markup=False, highlight=False)
