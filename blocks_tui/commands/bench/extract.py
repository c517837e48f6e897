"""``blocks-tui bench extract``: extraction throughput vs. a plain inference loop."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..options import add_extract_options


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "extract", parents=[common], help="extraction throughput vs. a plain inference loop",
        description="Run a plain forward+top-k loop, then the full extraction, on the same model, loader and "
        "device, and print both throughputs and their ratio.",
    )
    add_extract_options(p, bench=True)
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ...bench.extract import bench_extract
    from ...extract.command import build_plan
    from ...render.bench import render_extract_bench

    plan = build_plan(args, Path("unused.h5"))
    render_extract_bench(Console(), bench_extract(plan), plan, args.data, args.model)
    return 0
