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


def writable_output(path: Path, overwrite: bool) -> Path:
    """Check, before any work, that a cache can be written at ``path`` without losing one."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'out.h5'}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    if folder.exists() and not os.access(folder, os.W_OK):
        raise BlocksError(f"cannot write in {folder}: permission denied or read-only")
    return path


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
    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth must be 0 or more")
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"--cache-dir {path.parent} is a file, not a folder") from None
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

        writable_output(path, overwrite=True)
        config = DemoConfig.fast() if args.fast else DemoConfig()
        started = time.perf_counter()
        build_demo_cache(path, config, progress=True)
        console.print(f"Wrote {path} in {time.perf_counter() - started:.1f} s.")
    if sys.stdout.isatty():
        from .tui.launch import view

        return view(path)
    args.cache = str(path)
    args.result, args.depth, args.top, args.json = None, None, 10, False
    return cmd_summary(args)


def cmd_bench_open(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .cache.bench import bench_open
    from .demo.synthetic_scale import generate, write_synthetic_cache

    if args.classes < 2 or args.samples < args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least --classes")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-open-{args.samples}x{args.classes}.h5"
    console = Console()
    if not path.exists():
        console.print(f"Writing {path} ({args.samples:,} samples, {args.classes:,} classes) once...")
        write_synthetic_cache(path, generate(args.classes, args.samples, (512,), seed=0), seed=0)
    r = bench_open(path)
    console.print(
        f"cache: {r.samples:,} samples, {r.classes:,} classes, {r.file_bytes / 2**20:.0f} MiB on disk\n"
        f"open_cache + first lookup: {1000 * r.open_seconds:8.1f} ms, RSS +{r.open_rss_bytes / 2**10:.0f} KiB\n"
        f"baseline, h5py read all:   {1000 * r.read_all_seconds:8.1f} ms, {r.read_all_bytes / 2**20:.0f} MiB of arrays\n"
        f"ratio: opening is {r.speedup:.0f}x faster than reading everything"
    )
    return 0


def _extract_output(args: argparse.Namespace) -> Path:
    if args.output:
        return Path(args.output)
    model = (args.model or Path(args.checkpoint or "model").stem).replace(":", "-").replace("/", "-")
    data = args.data.split(":", 1)[0]
    return cache_dir(args) / f"{model}-{data}.h5"


def cmd_extract(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    if args.list_layers:
        from rich.table import Table

        from .extract.command import list_layers

        table = Table(title=f"layers of {args.model or args.checkpoint} (* = chosen by --layers auto)")
        for column in ("", "name", "output shape (one sample)"):
            table.add_column(column)
        for name, shape, chosen in list_layers(args):
            table.add_row("*" if chosen else "", name, "×".join(map(str, shape)))
        Console().print(table)
        return 0
    if not args.data:
        raise UsageError("--data is required (imagefolder:PATH, imagenet:PATH, cifar10:PATH, cifar100:PATH or demo)")
    # overwrite=True here: whether an existing cache may be replaced or extended is decided below.
    # With --overwrite the old cache stays until the new one is complete: the
    # writer renames over it atomically, so a failed run loses nothing.
    output = writable_output(_extract_output(args), overwrite=True)
    if output.exists() and not args.overwrite:
        if not args.result_name:
            raise UsageError(f"{output} exists; pass --overwrite to replace it, or --result-name NAME to add a result set")
        from .extract.append import append_results

        added = append_results(args, output, console)
        console.print(f"Added result set {added!r} to {output}.")
        return 0
    from .extract.command import build_plan
    from .extract.progress import run_with_progress

    plan = build_plan(args, output)
    merged = run_with_progress(plan, console)
    if merged is None:
        console.print(f"Shard {plan.shard[0]}/{plan.shard[1]} done. When every shard is done: blocks-tui merge {output}")
    else:
        console.print(f"Wrote {merged}.")
    return 0


def cmd_bench_demo(args: argparse.Namespace) -> int:
    import tempfile

    from rich.console import Console
    from rich.table import Table

    from .cache import open_cache
    from .demo.checks import planted_checks
    from .demo.pipeline import DemoConfig, build_demo_cache

    config = DemoConfig.fast() if args.fast else DemoConfig()
    with tempfile.TemporaryDirectory(prefix="blocks-demo-") as tmp:
        started = time.perf_counter()
        path = build_demo_cache(Path(tmp) / "demo.h5", config, progress=True)
        seconds = time.perf_counter() - started
        with open_cache(path) as cache:
            checks = planted_checks(cache)
    table = Table(title=f"{'fast' if args.fast else 'full'} demo: generate, train, evaluate, write in {seconds:.1f} s "
                  "(goal <= 90 s)", title_justify="left")
    for column in ("planted property", "value", "goal", ""):
        table.add_column(column, justify="right" if column == "value" else "left")
    for check in checks:
        table.add_row(check.name, f"{check.value:.1f}", check.goal, "ok" if check.passed else "MISSED")
    Console().print(table)
    return 0 if all(c.passed for c in checks) and seconds <= 90 else 1


def cmd_merge(args: argparse.Namespace) -> int:
    from .cache.parts import parts_folder
    from .extract.runner import merge

    output = Path(args.output)
    if output.exists() and not parts_folder(output).exists():
        print(f"{output} is already complete; nothing to merge.")
        return 0
    print(f"Wrote {merge(output)}.")
    return 0


def cmd_bench_extract(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .extract.bench import bench_extract
    from .extract.command import build_plan

    plan = build_plan(args, Path("unused.h5"))
    r = bench_extract(plan)
    Console().print(
        f"{r.samples:,} samples of {args.data} through {args.model} on {r.device}, batch {plan.batch_size}, "
        f"{plan.workers} workers, variants {','.join(plan.variants)}, {len(plan.layers)} layers\n"
        f"baseline, plain loop (forward + top-k): {r.plain_rate:8.1f} samples/s\n"
        f"full extraction (hooks, sums, writes):  {r.extract_rate:8.1f} samples/s\n"
        f"ratio: extraction runs at {r.ratio:.2f}x the plain loop"
    )
    return 0


def _add_extract_options(p: argparse.ArgumentParser, bench: bool = False) -> None:
    model = p.add_argument_group("model")
    model.add_argument("--model", metavar="NAME", default="resnet18" if bench else None,
                       help="a torchvision classifier (resnet50, vit_b_16, ...) or package.module:factory")
    model.add_argument("--weights", default="none" if bench else "DEFAULT", metavar="W",
                       help="DEFAULT, a weights name such as IMAGENET1K_V2, or none (default: %(default)s)")
    model.add_argument("--checkpoint", metavar="FILE", help="a state_dict or a whole saved model")
    model.add_argument("--num-classes", type=int, metavar="N", help="the checkpoint's class count, when it differs")
    model.add_argument("--resize", type=int, help="resize the shorter side to this (default: the weights' own)")
    model.add_argument("--crop", type=int, help="centre crop (default: the weights' own, else 224)")
    model.add_argument("--mean", metavar="R,G,B", help="normalisation mean (default: ImageNet's)")
    model.add_argument("--std", metavar="R,G,B", help="normalisation std (default: ImageNet's)")
    data = p.add_argument_group("data")
    data.add_argument("--data", metavar="KIND:PATH", default="demo" if bench else None,
                      help="imagefolder:PATH, imagenet:PATH, cifar10:PATH, cifar100:PATH or demo")
    data.add_argument("--download", action="store_true", help="allow downloading weights or CIFAR")
    data.add_argument("--limit", type=int, metavar="N", default=256 if bench else None,
                      help="a deterministic, stratified subset of N samples")
    data.add_argument("--hierarchy", default="auto", metavar="H",
                      help="auto, wordnet, cifar100, FILE.json or none (default: auto)")
    rec = p.add_argument_group("what to record")
    rec.add_argument("--layers", default="auto", help="auto (4-6 stage outputs) or module names a,b,c")
    rec.add_argument("--downsample", type=int, metavar="D", help="cells per side (default: <= ~8k values per sample)")
    rec.add_argument("--maps", action="store_true", help="also store per-sample d×d maps (bigger cache)")
    rec.add_argument("--variants", default="original", help="original,grayscale,rot90,rot180,rot270,hflip")
    rec.add_argument("--result-name", metavar="NAME", help="name the original result set, e.g. epoch-3")
    rec.add_argument("--k", type=int, default=5, help="top-k to keep, at least 5 (default: 5)")
    run = p.add_argument_group("running")
    run.add_argument("--batch-size", type=int, default=64 if not bench else 32, help="(default: %(default)s)")
    run.add_argument("--workers", type=int, help="DataLoader workers (default: min(8, cores))")
    run.add_argument("--device", default="auto", help="auto, cpu or cuda[:i] (default: auto)")
    run.add_argument("--seed", type=int, default=0, help="torch seed (default: 0)")


def cmd_make_synthetic(args: argparse.Namespace) -> int:
    from .demo.synthetic_scale import generate, parse_channels, write_synthetic_cache

    try:
        channels = parse_channels(args.channels)
    except ValueError as exc:
        raise UsageError(f"--channels: {exc}") from None
    if args.classes < 2 or args.samples < args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least --classes")
    path = writable_output(resolve_cache(args.cache, cache_dir(args)), args.overwrite)
    started = time.perf_counter()
    write_synthetic_cache(path, generate(args.classes, args.samples, channels, seed=args.seed), seed=args.seed)
    print(f"Wrote {path}: {args.classes:,} classes, {args.samples:,} samples, layers of "
          f"{', '.join(map(str, channels))} channels, in {time.perf_counter() - started:.1f} s.")
    return 0


def cmd_bench_analysis(args: argparse.Namespace) -> int:
    from .analysis.bench import Workload, bench_core, bench_seriation, environment, format_table, workload_similarity
    from .demo.synthetic_scale import generate

    try:
        sizes = [int(x) for x in args.seriation_classes.split(",") if x.strip()]
    except ValueError:
        raise UsageError("--seriation-classes must be comma-separated integers, e.g. 2000,5000") from None
    if min([args.classes, *sizes]) < 2 or args.samples < args.classes or min(args.channels, args.repeats) < 1:
        raise UsageError("--classes and --seriation-classes must be at least 2, --samples at least --classes, "
                         "--channels and --repeats at least 1")

    def workload(classes: int, samples: int, channels: tuple[int, ...]) -> Workload:
        sys.stderr.write(f"generating {classes:,} classes x {samples:,} samples...\n")
        d = generate(classes, samples, channels, seed=args.seed)
        h = d.hierarchy
        return Workload(d.labels, d.topk_index, d.topk_prob, d.true_prob, h.names, h.parent, h.class_index,
                        d.layers[0].collective if d.layers else None)

    core = workload(args.classes, args.samples, (args.channels,))
    rows = bench_core(core, args.repeats) + bench_seriation(workload_similarity(core), args.repeats, not args.no_scipy)
    for n in sizes:
        big = workload(n, round(args.samples / args.classes * n), ())
        rows += bench_seriation(workload_similarity(big), args.repeats, not args.no_scipy, leaf=n <= args.leaf_max)
    print(f"blocks-tui bench analysis on {environment()}")
    print(format_table(rows))
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from .tui.launch import screenshot, view

    path = resolve_cache(args.cache, cache_dir(args))
    if args.screenshot:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise UsageError(f"--size takes WIDTHxHEIGHT, e.g. 120x40, got {args.size!r}") from None
        keys = args.keys.split() if args.keys else []
        print(f"Wrote {screenshot(path, Path(args.screenshot), (width, height), keys, args.result)}.")
        return 0
    return view(path, args.result)


def cmd_bench_ui(args: argparse.Namespace) -> int:
    from .tui.bench import bench_ui, format_report

    if args.classes < 2 or args.samples < args.classes or min(args.presses, args.repeats) < 1:
        raise UsageError("--classes must be at least 2, --samples at least --classes, "
                         "--presses and --repeats at least 1")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-ui-{args.classes}x{args.samples}.h5"
    report = bench_ui(path, args.classes, args.samples, presses=args.presses, repeats=args.repeats,
                      log=lambda line: print(line, file=sys.stderr))
    print(format_report(report))
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
    extract = sub.add_parser(
        "extract", parents=[common], help="run a torchvision classifier over a data set into a cache",
        description="Run a classifier over a data set and write one cache: top-k predictions per variant, "
        "downsampled layer responses, thumbnails and the class hierarchy.  Kill it at any time; the same "
        "command resumes from the last finished batch.",
    )
    _add_extract_options(extract)
    extract.add_argument("-o", "--output", metavar="FILE", help="the cache (default: CACHE_DIR/MODEL-DATA.h5)")
    extract.add_argument("--shard", metavar="I/N", help="process shard I of N (default: torchrun's RANK/WORLD_SIZE)")
    extract.add_argument("--resume", action="store_true", help="continue an interrupted run (also the default)")
    extract.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    extract.add_argument("--list-layers", action="store_true", help="print the model's candidate layers and exit")
    extract.set_defaults(func=cmd_extract)

    merge = sub.add_parser(
        "merge", parents=[common], help="combine the shards of an extraction into one cache",
        description="Combine the part files that `extract --shard i/n` runs left next to OUTPUT into OUTPUT.",
    )
    merge.add_argument("output", metavar="OUTPUT", help="the cache the shards were extracting")
    merge.set_defaults(func=cmd_merge)

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
    bench_extract = bench_sub.add_parser(
        "extract", parents=[common], help="extraction throughput vs. a plain inference loop",
        description="Run a plain forward+top-k loop, then the full extraction, on the same model, loader and "
        "device, and print both throughputs and their ratio.",
    )
    _add_extract_options(bench_extract, bench=True)
    bench_extract.set_defaults(func=cmd_bench_extract)
    bench_demo = bench_sub.add_parser(
        "demo", parents=[common], help="time the whole demo and check what it planted",
        description="Build the demo in a temporary folder, time it, and measure the planted properties "
        "(accuracy, confusions inside the top-level groups, grayscale and rot90 drops).",
    )
    bench_demo.add_argument("--fast", action="store_true", help="the test suite's smaller configuration")
    bench_demo.set_defaults(func=cmd_bench_demo)

    synthetic = sub.add_parser(
        "make-synthetic", parents=[common], help="write a realistic-scale synthetic cache (numpy only, no GPU)",
        description="Plant a deep WordNet-like class tree, confusions in nested blocks with block outliers, "
        "mislabels, latent subclasses and layers of channel responses, and write them as a cache: the viewer "
        "and the analysis at ImageNet scale without a GPU, torch or a download.",
    )
    synthetic.add_argument("cache", nargs="?", default="synthetic", metavar="CACHE",
                           help="a file, or a name in the cache folder (default: synthetic)")
    synthetic.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    synthetic.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    synthetic.add_argument("--channels", default="256,512,1024,2048", metavar="C1,C2,...",
                           help="channels of each layer, 1 to 4 layers (default: %(default)s)")
    synthetic.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synthetic.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    synthetic.set_defaults(func=cmd_make_synthetic)
    bench_analysis = bench_sub.add_parser(
        "analysis", help="time the analysis at 1000+ classes against goals and scipy",
        description="Generate synthetic results (numpy only) and time confusion filters, pyramids, group "
        "metrics, seriation, optimal leaf ordering (against scipy's optimal_leaf_ordering on the same "
        "linkage, in the same run), partitioning, outliers and neuron relevance.",
    )
    bench_analysis.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    bench_analysis.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    bench_analysis.add_argument("--channels", type=int, default=512, help="channels for relevance (default: 512)")
    bench_analysis.add_argument("--seriation-classes", default="2000,5000", metavar="N,N",
                                help="further sizes for seriation only (default: %(default)s)")
    bench_analysis.add_argument("--leaf-max", type=int, default=2000, metavar="N",
                                help="largest size for leaf ordering, which is O(n^3) (default: 2000)")
    bench_analysis.add_argument("--repeats", type=int, default=5, help="median of this many runs (default: 5)")
    bench_analysis.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    bench_analysis.add_argument("--no-scipy", action="store_true", help="skip the scipy baseline (slow at 2000)")
    bench_analysis.set_defaults(func=cmd_bench_analysis)

    view = sub.add_parser(
        "view", parents=[common], help="open a cache in the terminal viewer",
        description="Browse the confusion matrix in hierarchy order: zoom into blocks, filter, seriate, "
        "partition and jump between block outliers, with the keyboard alone (? lists the keys).",
    )
    view.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    view.add_argument("--result", metavar="NAME", help="result set to show first (default: original)")
    view.add_argument("--screenshot", metavar="FILE.svg", help="render headless, save an SVG screenshot, exit")
    view.add_argument("--size", default="120x40", help="terminal size for --screenshot (default: 120x40)")
    view.add_argument("--keys", metavar="'K1 K2 ...'", help="keys to press before --screenshot, e.g. 'enter c'")
    view.set_defaults(func=cmd_view)
    bench_ui = bench_sub.add_parser(
        "ui", parents=[common], help="viewer frame time, key latency and start-up on 1000 classes",
        description="On a synthetic 1000-class cache (written once): the time to build a 200x60 viewport of "
        "strips cold and warm, key-to-idle latency of cursor and zoom keys in a headless Pilot against an "
        "empty Textual app in the same run, and process start to first frame in a pseudo-terminal.",
    )
    bench_ui.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    bench_ui.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    bench_ui.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    bench_ui.add_argument("--presses", type=int, default=40, help="key presses per measurement (default: 40)")
    bench_ui.add_argument("--repeats", type=int, default=3, help="start-up runs, the median is kept (default: 3)")
    bench_ui.set_defaults(func=cmd_bench_ui)
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
    except OSError as exc:  # disk full, read-only folder, permissions: the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"blocks-tui: error: {where}{exc.strerror or exc}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's promise is one line, not a traceback
        if os.environ.get("BLOCKS_TUI_DEBUG"):
            raise
        sys.stderr.write(
            f"blocks-tui: internal error: {type(exc).__name__}: {exc} (set BLOCKS_TUI_DEBUG=1 for the traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
