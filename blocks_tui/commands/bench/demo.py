"""``blocks-tui bench demo``: time the whole demo and check what it planted (exit 1 when it misses)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", parents=[common], help="time the whole demo and check what it planted",
        description="Build the demo in a temporary folder, time it, and measure the planted properties "
        "(accuracy, confusions inside the top-level groups, grayscale and rot90 drops).",
    )
    p.add_argument("--fast", action="store_true", help="the test suite's smaller configuration")
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ...bench.demo import GOAL_SECONDS, bench_demo
    from ...demo.pipeline import DemoConfig
    from ...render.bench import render_demo_bench

    result = bench_demo(DemoConfig.fast() if args.fast else DemoConfig())
    render_demo_bench(Console(), result, args.fast, GOAL_SECONDS)
    return 0 if result.passed else 1
