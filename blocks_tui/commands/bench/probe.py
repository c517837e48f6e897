"""``blocks-tui bench probe``: every layer of a synthetic cache probed by the scipy and the torch engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...errors import UsageError
from ..options import add_channels_option, add_probe_options, channels_of, probe_settings
from ..paths import cache_dir
from .synthetic import synthetic_cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "probe", parents=[common], help="probe every layer of a 50k x 1000 synthetic cache: scipy vs torch",
        description="Write (once) a synthetic cache and probe all its layers with the scipy engine (L-BFGS) and "
        "the torch engine (Adam) in the same run, nothing written: seconds per layer, held-out top-1, ratio.",
    )
    p.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    p.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    add_channels_option(p)
    p.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    add_probe_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ...bench.probe import bench_probe
    from ...cache import open_cache
    from ...extract.probe import resolve_layers
    from ...render.probes import render_probe_bench

    channels = channels_of(args)
    if args.classes < 2 or args.samples < 2 * args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least twice --classes")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-probe-{args.samples}x{args.classes}.h5"
    console = Console(stderr=True)
    synthetic_cache(path, args.classes, args.samples, channels, console)
    engines = [probe_settings(args, "scipy"), probe_settings(args, "torch")]
    with open_cache(path) as cache:
        layers = resolve_layers(cache, args.layers)
    runs = bench_probe(path, layers, engines, console)
    render_probe_bench(Console(), path.name, layers, engines, runs)
    return 0
