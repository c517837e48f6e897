"""``blocks-tui bench open``: open a large cache lazily vs. reading it all with h5py."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..options import check_classes_and_samples
from ..paths import cache_dir
from .synthetic import synthetic_cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "open", parents=[common], help="open a large cache lazily vs. reading it all with h5py",
        description="Write (once) a synthetic cache of ImageNet size and time opening it against reading "
        "every dataset with plain h5py.",
    )
    p.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    p.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    p.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ...bench.cache_open import bench_open, bench_rows
    from ...render.bench import render_open_bench

    check_classes_and_samples(args)
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-open-{args.samples}x{args.classes}.h5"
    console = Console()
    synthetic_cache(path, args.classes, args.samples, (512,), console)
    render_open_bench(console, bench_open(path), bench_rows(path))
    return 0
