"""``blocks-tui info``: what a cache holds."""

from __future__ import annotations

import argparse

from .options import add_cache_argument


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "info", parents=[common], help="show what a cache holds",
        description="Show a cache's configuration, contents and sizes on disk.",
    )
    add_cache_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cache import open_cache
    from ..render.info import render_info
    from .paths import existing_cache

    with open_cache(existing_cache(args)) as cache:
        render_info(Console(), cache)
    return 0
