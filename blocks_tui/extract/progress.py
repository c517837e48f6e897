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
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("extract", total=None, rate="")

        def report(advance: int, total: int) -> None:
            if total:  # the first call: resumed samples and the shard's total
                bar.update(task, total=total, completed=advance)
                return
            bar.advance(task, advance)
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:,.0f} samples/s" if speed else "")

        return extract(plan, progress=report)
