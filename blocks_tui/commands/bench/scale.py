"""``blocks-tui bench scale``: start-up, memory, triage and summary from 1,000 to 10,000 classes."""

from __future__ import annotations

import argparse
import sys

from ...errors import UsageError
from ..paths import cache_dir

DEFAULT_SIZES = "1000x50000,10000x1000000"


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "scale", parents=[common], help="start-up, memory, o/m and summary from 1k to 10k classes",
        description="For each size, a synthetic cache (written once, kept in the cache folder; 10k x 1M is "
        "9.8 GB and takes about 3 minutes): process start to first frame in a pty and the viewer's "
        "resident memory then, the outliers and mislabels rankings (the o and m panels), and summary as "
        "a process with its peak memory.  The sizes sit side by side, against the goals at 10k.",
    )
    p.add_argument("--sizes", default=DEFAULT_SIZES, metavar="CxN,...",
                   help=f"classes x samples per size (default: {DEFAULT_SIZES})")
    return p


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``1000x50000,10000x1000000`` → [(1000, 50000), (10000, 1000000)]."""
    sizes = []
    for part in text.split(","):
        try:
            classes, samples = (int(v) for v in part.lower().split("x"))
        except ValueError:
            raise UsageError(f"--sizes takes CLASSESxSAMPLES pairs, e.g. {DEFAULT_SIZES}; got {part!r}") from None
        if classes < 2 or samples < classes:
            raise UsageError(f"--sizes: {part!r} needs at least 2 classes and a sample per class")
        sizes.append((classes, samples))
    return sizes


def run(args: argparse.Namespace) -> int:
    from ...bench.analysis import environment
    from ...bench.scale import bench_size, format_scale

    sizes = parse_sizes(args.sizes)
    folder = cache_dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    rows = [bench_size(folder / f"bench-scale-{c}x{n}.h5", c, n, log) for c, n in sizes]
    print(format_scale(rows, environment()))
    return 0
