"""``blocks-tui bench analysis``: the analysis at 1000+ classes against goals and scipy."""

from __future__ import annotations

import argparse
import sys

from ...errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "analysis", help="time the analysis at 1000+ classes against goals and scipy",
        description="Generate synthetic results (numpy only) and time confusion filters, pyramids, group "
        "metrics, seriation, optimal leaf ordering (against scipy's optimal_leaf_ordering on the same "
        "linkage, in the same run), partitioning, outliers and neuron relevance.",
    )
    p.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    p.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    p.add_argument("--channels", type=int, default=512, help="channels for relevance (default: 512)")
    p.add_argument("--seriation-classes", default="2000,5000", metavar="N,N",
                   help="further sizes for seriation only (default: %(default)s)")
    p.add_argument("--leaf-max", type=int, default=2000, metavar="N",
                   help="largest size for leaf ordering, which is O(n^3) (default: 2000)")
    p.add_argument("--repeats", type=int, default=5, help="median of this many runs (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--no-scipy", action="store_true", help="skip the scipy baseline (slow at 2000)")
    return p


def run(args: argparse.Namespace) -> int:
    from ...bench.analysis import (
        bench_core,
        bench_seriation,
        environment,
        format_table,
        synthetic_workload,
        workload_similarity,
    )

    try:
        sizes = [int(x) for x in args.seriation_classes.split(",") if x.strip()]
    except ValueError:
        raise UsageError("--seriation-classes must be comma-separated integers, e.g. 2000,5000") from None
    if min([args.classes, *sizes]) < 2 or args.samples < args.classes or min(args.channels, args.repeats) < 1:
        raise UsageError("--classes and --seriation-classes must be at least 2, --samples at least --classes, "
                         "--channels and --repeats at least 1")
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    core = synthetic_workload(args.classes, args.samples, (args.channels,), args.seed, log)
    rows = bench_core(core, args.repeats) + bench_seriation(workload_similarity(core), args.repeats, not args.no_scipy)
    for n in sizes:
        big = synthetic_workload(n, round(args.samples / args.classes * n), (), args.seed, log)
        rows += bench_seriation(workload_similarity(big), args.repeats, not args.no_scipy, leaf=n <= args.leaf_max)
    print(f"blocks-tui bench analysis on {environment()}")
    print(format_table(rows))
    return 0
