"""``blocks-tui summary``: accuracy, group metrics and top confusions, as tables or JSON."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from .options import add_cache_argument


TABLE_DEPTH = 2
"""Hierarchy levels the summary table shows by default; ``--depth`` or ``--json`` show more."""


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "summary", parents=[common], help="print accuracy, group metrics and top confusions",
        description="Print top-1/top-5 accuracy per result set, precision/recall/F1 of every hierarchy "
        "node (paper Eq. 1) and the top confusion pairs.",
    )
    add_cache_argument(p)
    p.add_argument("--result", metavar="NAME", help="result set for node metrics and pairs (default: original)")
    p.add_argument("--depth", type=int, metavar="N",
                   help=f"show hierarchy nodes down to depth N only (default: {TABLE_DEPTH} in the table, all in --json)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="number of confusion pairs (default: 10)")
    p.add_argument("--json", action="store_true", help="print the same content as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..analysis import Tree, summarize
    from ..cache import open_cache
    from ..render.summary import render_summary, summary_json, summary_title
    from .paths import existing_cache

    if args.top < 0:
        raise UsageError("--top must be 0 or more")
    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    with open_cache(existing_cache(args)) as cache:
        result = cache.require_result(args.result)
        summary = summarize(
            Tree.from_hierarchy(cache.hierarchy),
            cache.class_names,
            cache.labels,
            {name: cache.result(name).topk_index for name in cache.result_names},
            result=result,
            max_depth=args.depth,
            top_pairs=args.top,
        )
        if args.json:
            sys.stdout.write(summary_json(summary, cache) + "\n")
        else:
            # A 21k-class tree has tens of thousands of nodes: the table shows the top levels unless asked.
            depth = TABLE_DEPTH if args.depth is None else args.depth
            render_summary(Console(), summary, summary_title(cache), depth)
    return 0
