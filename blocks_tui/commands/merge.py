"""``blocks-tui merge``: combine the part files of a sharded extraction into one cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..safe_text import printable


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "merge", parents=[common], help="combine the shards of an extraction into one cache",
        description="Combine the part files that `extract --shard i/n` runs left next to OUTPUT into OUTPUT.",
    )
    p.add_argument("output", metavar="OUTPUT", help="the cache the shards were extracting")
    return p


def run(args: argparse.Namespace) -> int:
    from ..cache.parts import parts_folder
    from ..extract.runner import merge

    output = Path(args.output)
    if output.exists() and not parts_folder(output).exists():
        print(printable(f"{output} is already complete; nothing to merge."))
        return 0
    print(printable(f"Wrote {merge(output)}."))
    return 0
