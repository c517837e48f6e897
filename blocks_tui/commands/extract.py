"""``blocks-tui extract``: run a classifier over a data set into a cache (or add a result set to one)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..safe_text import plain
from .options import add_extract_options
from .paths import cache_dir, writable_output


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "extract", parents=[common], help="run a torchvision classifier over a data set into a cache",
        description="Run a classifier over a data set and write one cache: top-k predictions per variant, "
        "downsampled layer responses, thumbnails and the class hierarchy.  Kill it at any time; the same "
        "command resumes from the last finished batch.",
    )
    add_extract_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="the cache (default: CACHE_DIR/MODEL-DATA.h5)")
    p.add_argument("--shard", metavar="I/N", help="process shard I of N (default: torchrun's RANK/WORLD_SIZE)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run (also the default)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    p.add_argument("--list-layers", action="store_true", help="print the model's candidate layers and exit")
    return p


def default_output(args: argparse.Namespace) -> Path:
    """``-o``, else ``CACHE_DIR/MODEL-DATA.h5`` named after the model (or checkpoint) and the data kind."""
    if args.output:
        return Path(args.output)
    model = (args.model or Path(args.checkpoint or "model").stem).replace(":", "-").replace("/", "-")
    data = args.data.split(":", 1)[0]
    return cache_dir(args) / f"{model}-{data}.h5"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    if args.list_layers:
        from ..extract.command import list_layers
        from ..render.layers import render_layers

        render_layers(Console(), args.model or args.checkpoint, list_layers(args))
        return 0
    if not args.data:
        raise UsageError("--data is required (imagefolder:PATH, imagenet:PATH, cifar10:PATH, cifar100:PATH or demo)")
    # overwrite=True here: whether an existing cache may be replaced or extended is decided below.
    # With --overwrite the old cache stays until the new one is complete: the
    # writer renames over it atomically, so a failed run loses nothing.
    output = writable_output(default_output(args), overwrite=True)
    if output.exists() and not args.overwrite:
        if not args.result_name:
            raise UsageError(f"{output} exists; pass --overwrite to replace it, or --result-name NAME to add a result set")
        from ..extract.append import append_results

        added = append_results(args, output, console)
        console.print(plain(f"Added result set {added!r} to {output}."))
        return 0
    from ..extract.command import build_plan
    from ..extract.progress import run_with_progress

    plan = build_plan(args, output)
    merged = run_with_progress(plan, console)
    if merged is None:
        console.print(plain(f"Shard {plan.shard[0]}/{plan.shard[1]} done. When every shard is done: "
                            f"blocks-tui merge {output}"))
    else:
        console.print(plain(f"Wrote {merged}."))
    return 0
