"""``blocks-tui demo``: build the demo cache once (train the small CNN), then show it."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import UsageError
from ..safe_text import plain
from .options import add_images_option
from .paths import DEMO_NAME, cache_dir, writable_output


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", parents=[common], help="train the small CNN on the synthetic data set and show the result",
        description="Generate the synthetic hierarchical data set, train the demo CNN on the CPU, write "
        "CACHE_DIR/demo.h5 and show it.  A second run reuses the cache.",
    )
    p.add_argument("--rebuild", action="store_true", help="train again even if the cache exists")
    p.add_argument("--fast", action="store_true", help="a smaller, faster configuration (as the tests use)")
    add_images_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Reuse a readable demo cache or build one; open the viewer on a terminal, else print the summary."""
    from rich.console import Console

    from ..cache import CacheError, open_cache

    console = Console(stderr=True)
    path = cache_dir(args) / f"{DEMO_NAME}.h5"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"--cache-dir {path.parent} is a file, not a folder") from None
    build = args.rebuild or not path.exists()
    if not build:
        try:
            open_cache(path).close()
            console.print(plain(f"Reusing {path} (pass --rebuild to train again)."))
        except CacheError as exc:
            console.print(plain(f"{exc}; rebuilding it."))
            build = True
    if build:
        from ..demo.pipeline import DemoConfig, build_demo_cache  # imports torch

        writable_output(path, overwrite=True)
        config = DemoConfig.fast() if args.fast else DemoConfig()
        started = time.perf_counter()
        build_demo_cache(path, config, progress=True)
        console.print(plain(f"Wrote {path} in {time.perf_counter() - started:.1f} s."))
    if sys.stdout.isatty():
        from ..tui.launch import view

        return view(path, images=args.images)
    from . import summary

    args.cache = str(path)
    args.result, args.depth, args.top, args.json = None, None, 10, False
    return summary.run(args)
