"""``blocks-tui dynamics``: when each group's recall settles during training (paper §4.1.1)."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from .options import add_cache_argument
from .paths import existing_cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "dynamics", parents=[common], help="when each group's recall settles during training (paper §4.1.1)",
        description="For a cache with epoch-N result sets (the demo writes one per epoch; the final model is "
        "'original' with an 'epoch' attribute, or the largest N), print the first epoch at which each group's "
        "recall came within --tolerance points of its final value, next to the leaf classes'.",
    )
    add_cache_argument(p)
    p.add_argument("--level", type=int, default=1, metavar="D", help="list the groups at depth D (default: 1)")
    p.add_argument("--series", metavar="NAME", help="read NAME:epoch-N and NAME (e.g. baseline, from train)")
    p.add_argument("--tolerance", type=float, default=5.0, metavar="P", help="points of recall (default: 5)")
    p.add_argument("--json", action="store_true", help="print the same content as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from ..analysis import Tree
    from ..analysis.dynamics import dynamics_report, epoch_series, settling_epochs
    from ..cache import open_cache
    from ..render.dynamics import render_dynamics

    if not 0 <= args.tolerance <= 100:
        raise UsageError("--tolerance takes points of recall in [0, 100]")
    with open_cache(existing_cache(args)) as cache:
        try:
            series = epoch_series(cache.result_names, lambda name: cache.result(name).attrs, args.series or "")
        except ValueError as exc:
            raise UsageError(f"{cache.path}: {exc}") from None
        tree = Tree.from_hierarchy(cache.hierarchy)
        if not 1 <= args.level < int(tree.depth.max()):
            raise UsageError(f"--level must lie in [1, {int(tree.depth.max()) - 1}] for this hierarchy")
        epochs = [epoch for epoch, _ in series]
        settling = settling_epochs(tree, cache.labels, [cache.result(name).predicted for _, name in series],
                                   epochs, args.tolerance / 100)
        title = f"{cache.path}: {len(series)} epochs, the last {series[-1][0]} ({series[-1][1]})"
    report = dynamics_report(tree, settling, [name for _, name in series], args.level)
    if args.json:
        sys.stdout.write(json.dumps(report) + "\n")
        return 0
    render_dynamics(Console(), report, epochs, title, args.tolerance, args.level)
    return 0
