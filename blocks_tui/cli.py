"""The ``blocks-tui`` command line: parses, dispatches, and owns exit codes.

Exit codes: 0 success, 1 a failure (bad cache, failed run), 2 a usage error,
130 interrupted.  Every error is one line on stderr, never a traceback (set
``BLOCKS_TUI_DEBUG=1`` to see one).  Torch is imported only by the commands
that run a model (``demo``), so ``info`` and ``summary`` start fast on
machines where torch is slow to import or absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from . import __version__
from .errors import BlocksError, UsageError

DEFAULT_CACHE_DIR = Path("cache")
CACHE_DIR_ENV = "BLOCKS_CACHE_DIR"
DEMO_NAME = "demo"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def cache_dir(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else ``$BLOCKS_CACHE_DIR``, else ``./cache``."""
    if args.cache_dir:
        return Path(args.cache_dir)
    return Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)


def resolve_cache(name_or_path: str, folder: Path) -> Path:
    """A path as given, or a bare name looked up as ``FOLDER/NAME.h5``."""
    given = Path(name_or_path)
    if given.exists() or given.suffix or len(given.parts) > 1:
        return given
    return folder / f"{name_or_path}.h5"


# -- commands ------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .cache import open_cache
    from .render import render_info

    with open_cache(resolve_cache(args.cache, cache_dir(args))) as cache:
        render_info(Console(), cache)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .analysis import Tree, summarize
    from .cache import open_cache
    from .render import render_summary, summary_json

    if args.top < 0:
        raise UsageError("--top must be 0 or more")
    with open_cache(resolve_cache(args.cache, cache_dir(args))) as cache:
        result = args.result or ("original" if "original" in cache.result_names else cache.result_names[0])
        if result not in cache.result_names:
            raise UsageError(f"no result set {result!r} in {cache.path}; it has {', '.join(cache.result_names)}")
        h = cache.hierarchy
        summary = summarize(
            Tree.from_arrays(h.names, h.parent, h.class_index),
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
            model = cache.config.get("model", "unknown model")
            data = cache.config.get("dataset", "unknown data")
            title = f"{cache.path}: {model} on {data}, {cache.n_samples:,} samples, {cache.n_classes} classes"
            render_summary(Console(), summary, title)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .cache import CacheError, open_cache

    console = Console(stderr=True)
    path = cache_dir(args) / f"{DEMO_NAME}.h5"
    build = args.rebuild or not path.exists()
    if not build:
        try:
            open_cache(path).close()
            console.print(f"Reusing {path} (pass --rebuild to train again).")
        except CacheError as exc:
            console.print(f"{exc}; rebuilding it.")
            build = True
    if build:
        from .demo.pipeline import DemoConfig, build_demo_cache  # imports torch

        config = DemoConfig.fast() if args.fast else DemoConfig()
        started = time.perf_counter()
        build_demo_cache(path, config, progress=True)
        console.print(f"Wrote {path} in {time.perf_counter() - started:.1f} s.")
    args.cache = str(path)
    args.result, args.depth, args.top, args.json = None, None, 10, False
    return cmd_summary(args)


def cmd_bench_open(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .cache.bench import bench_open

    if args.samples < 1 or args.classes < 2:
        raise UsageError("--samples must be at least 1 and --classes at least 2")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-{args.samples}x{args.classes}.h5"
    console = Console()
    if not path.exists():
        console.print(f"Writing {path} ({args.samples:,} samples, {args.classes:,} classes) once...")
    r = bench_open(path, args.samples, args.classes)
    console.print(
        f"cache: {r.samples:,} samples, {r.classes:,} classes, {r.file_bytes / 2**20:.0f} MiB on disk\n"
        f"open_cache + first lookup: {1000 * r.open_seconds:8.1f} ms, RSS +{r.open_rss_bytes / 2**10:.0f} KiB\n"
        f"baseline, h5py read all:   {1000 * r.read_all_seconds:8.1f} ms, {r.read_all_bytes / 2**20:.0f} MiB of arrays\n"
        f"ratio: opening is {r.speedup:.0f}x faster than reading everything"
    )
    return 0


# -- parser ------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--cache-dir", metavar="DIR",
        help=f"folder of caches (default: ${CACHE_DIR_ENV}, else ./{DEFAULT_CACHE_DIR})",
    )
    parser = _Parser(
        prog="blocks-tui",
        description="See how an image classifier confuses its classes (Blocks, VIS 2017) in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"blocks-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser(
        "demo", parents=[common], help="train the small CNN on the synthetic data set and show the result",
        description="Generate the synthetic hierarchical data set, train the demo CNN on the CPU, write "
        "CACHE_DIR/demo.h5 and show it.  A second run reuses the cache.",
    )
    demo.add_argument("--rebuild", action="store_true", help="train again even if the cache exists")
    demo.add_argument("--fast", action="store_true", help="a smaller, faster configuration (as the tests use)")
    demo.set_defaults(func=cmd_demo)

    cache_help = "a cache file, or a name in the cache folder (default: demo)"
    info = sub.add_parser(
        "info", parents=[common], help="show what a cache holds",
        description="Show a cache's configuration, contents and sizes on disk.",
    )
    info.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    info.set_defaults(func=cmd_info)

    summary = sub.add_parser(
        "summary", parents=[common], help="print accuracy, group metrics and top confusions",
        description="Print top-1/top-5 accuracy per result set, precision/recall/F1 of every hierarchy "
        "node (paper Eq. 1) and the top confusion pairs.",
    )
    summary.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    summary.add_argument("--result", metavar="NAME", help="result set for node metrics and pairs (default: original)")
    summary.add_argument("--depth", type=int, metavar="N", help="show hierarchy nodes down to depth N only")
    summary.add_argument("--top", type=int, default=10, metavar="N", help="number of confusion pairs (default: 10)")
    summary.add_argument("--json", action="store_true", help="print the same content as JSON")
    summary.set_defaults(func=cmd_summary)
    bench = sub.add_parser("bench", help="measure how fast blocks-tui is on this machine",
                           description="Benchmarks, each against a baseline measured in the same run.")
    bench_sub = bench.add_subparsers(dest="bench", metavar="BENCH", parser_class=_Parser)
    bench_sub.required = True
    bench_open = bench_sub.add_parser(
        "open", parents=[common], help="open a large cache lazily vs. reading it all with h5py",
        description="Write (once) a synthetic cache of ImageNet size and time opening it against reading "
        "every dataset with plain h5py.",
    )
    bench_open.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    bench_open.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    bench_open.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    bench_open.set_defaults(func=cmd_bench_open)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``blocks-tui`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BlocksError as exc:
        sys.stderr.write(f"blocks-tui: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("blocks-tui: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's promise is one line, not a traceback
        if os.environ.get("BLOCKS_TUI_DEBUG"):
            raise
        sys.stderr.write(
            f"blocks-tui: internal error: {type(exc).__name__}: {exc} (set BLOCKS_TUI_DEBUG=1 for the traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
