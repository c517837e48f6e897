"""``blocks-tui view``: the terminal viewer, or a headless SVG screenshot of it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..safe_text import printable
from ..tui.layer_budget import LAYER_BUDGET, MIN_MEGABYTES
from .options import add_cache_argument, add_images_option
from .paths import output_beside, existing_cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "view", parents=[common], help="open a cache in the terminal viewer",
        description="Browse the confusion matrix in hierarchy order: zoom into blocks, filter, seriate, "
        "partition and jump between block outliers, with the keyboard alone (? lists the keys).",
    )
    add_cache_argument(p)
    p.add_argument("--result", metavar="NAME", help="result set to show first (default: original)")
    p.add_argument("--screenshot", metavar="FILE.svg", help="render headless, save an SVG screenshot, exit")
    p.add_argument("--size", default="120x40", help="terminal size for --screenshot (default: 120x40)")
    p.add_argument("--keys", metavar="'K1 K2 ...'", help="keys to press before --screenshot, e.g. 'enter c'")
    add_images_option(p)
    p.add_argument("--memory", metavar="MB", type=int, default=LAYER_BUDGET >> 20,
                   help=f"memory for response-map layers (default: {LAYER_BUDGET >> 20}): the least recently "
                   "loaded go first, and a layer bigger than this ranks its neurons on a per-class sample")
    return p


def run(args: argparse.Namespace) -> int:
    from ..tui.launch import screenshot, view

    if args.memory < MIN_MEGABYTES:  # a usage error first: it needs no cache to be wrong
        raise UsageError(f"--memory takes megabytes, at least {MIN_MEGABYTES}, got {args.memory}")
    path = existing_cache(args)
    if args.screenshot:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise UsageError(f"--size takes WIDTHxHEIGHT, e.g. 120x40, got {args.size!r}") from None
        keys = args.keys.split() if args.keys else []
        output = output_beside(Path(args.screenshot), path, "--screenshot")
        shot = screenshot(path, output, (width, height), keys, args.result, args.images, args.memory << 20)
        print(printable(f"Wrote {shot}."))
        return 0
    return view(path, args.result, args.images, args.memory << 20)
