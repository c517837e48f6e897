"""``blocks-tui bench ui``: viewer frame time, key latency, start-up and pictures on 1000 classes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import UsageError
from ..paths import cache_dir


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "ui", parents=[common], help="viewer frame time, key latency and start-up on 1000 classes",
        description="On a synthetic 1000-class cache (written once): the time to build a 200x60 viewport of "
        "strips cold and warm, key-to-idle latency of cursor and zoom keys in a headless Pilot against an "
        "empty Textual app in the same run, and process start to first frame in a pseudo-terminal.",
    )
    p.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    p.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    p.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    p.add_argument("--presses", type=int, default=40, help="key presses per measurement (default: 40)")
    p.add_argument("--repeats", type=int, default=3, help="start-up runs, the median is kept (default: 3)")
    return p


def run(args: argparse.Namespace) -> int:
    from ...bench.ui import bench_ui, format_report

    if args.classes < 2 or args.samples < args.classes or min(args.presses, args.repeats) < 1:
        raise UsageError("--classes must be at least 2, --samples at least --classes, "
                         "--presses and --repeats at least 1")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-ui-v2-{args.classes}x{args.samples}.h5"
    report = bench_ui(path, args.classes, args.samples, presses=args.presses, repeats=args.repeats,
                      log=lambda line: print(line, file=sys.stderr))
    print(format_report(report))
    return 0
