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
from .safe_text import plain, printable  # every name, path and message from data or argv goes through these

DEFAULT_CACHE_DIR = Path("cache")
CACHE_DIR_ENV = "BLOCKS_CACHE_DIR"
DEMO_NAME = "demo"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")
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
    _refuse_unsafe(path, "", ())
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    if folder.exists() and not os.access(folder, os.W_OK):
        raise BlocksError(f"cannot write in {folder}: permission denied or read-only")
    return path


def _refuse_unsafe(output: Path, option: str, protected: Sequence[tuple[Path, str]]) -> None:
    from .atomic import UnsafeOutput, check_output

    try:
        check_output(output, protected)
    except UnsafeOutput as exc:
        raise UsageError(f"{option}{' ' if option else ''}{output} {exc.strerror}") from None


def output_beside(output: Path, cache: Path, option: str) -> Path:
    """Refuse, before any work, an ``option`` file that would overwrite the input cache, its triage file
    (the user's marks), or something that is not a regular file (a FIFO, a device, a folder)."""
    from .cache.triage import triage_path

    _refuse_unsafe(output, option, [(cache, "the input cache"), (triage_path(cache), "the cache's triage file")])
    return output


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
    from .cache.result_names import check_result, default_result
    from .render import render_summary, summary_json

    if args.top < 0:
        raise UsageError("--top must be 0 or more")
    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    with open_cache(resolve_cache(args.cache, cache_dir(args))) as cache:
        result = check_result(cache.result_names, args.result or default_result(cache.result_names), cache.path)
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
            console.print(plain(f"Reusing {path} (pass --rebuild to train again)."))
        except CacheError as exc:
            console.print(plain(f"{exc}; rebuilding it."))
            build = True
    if build:
        from .demo.pipeline import DemoConfig, build_demo_cache  # imports torch

        writable_output(path, overwrite=True)
        config = DemoConfig.fast() if args.fast else DemoConfig()
        started = time.perf_counter()
        build_demo_cache(path, config, progress=True)
        console.print(plain(f"Wrote {path} in {time.perf_counter() - started:.1f} s."))
    if sys.stdout.isatty():
        from .tui.launch import view

        return view(path, images=args.images)
    args.cache = str(path)
    args.result, args.depth, args.top, args.json = None, None, 10, False
    return cmd_summary(args)


def cmd_bench_open(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .bench.cache_open import bench_open, bench_rows
    from .synthetic.scale import generate, write_synthetic_cache

    if args.classes < 2 or args.samples < args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least --classes")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-open-{args.samples}x{args.classes}.h5"
    console = Console()
    if not path.exists():
        console.print(plain(f"Writing {path} ({args.samples:,} samples, {args.classes:,} classes) once..."))
        write_synthetic_cache(path, generate(args.classes, args.samples, (512,), seed=0), seed=0)
    r = bench_open(path)
    console.print(
        f"cache: {r.samples:,} samples, {r.classes:,} classes, {r.file_bytes / 2**20:.0f} MiB on disk\n"
        f"open_cache + first lookup: {1000 * r.open_seconds:8.1f} ms, RSS +{r.open_rss_bytes / 2**10:.0f} KiB\n"
        f"baseline, h5py read all:   {1000 * r.read_all_seconds:8.1f} ms, {r.read_all_bytes / 2**20:.0f} MiB of arrays\n"
        f"ratio: opening is {r.speedup:.0f}x faster than reading everything"
    )
    console.print("\nscattered rows, warm (median): through the cache vs. h5py fancy indexing")
    for t in bench_rows(path):
        console.print(f"  {t.dataset:<24} {t.rows:>6,} rows  {1000 * t.cache_seconds:8.2f} ms vs. "
                      f"{1000 * t.h5py_seconds:8.2f} ms   {t.speedup:.1f}x")
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

        table = Table(title=plain(f"layers of {args.model or args.checkpoint} (* = chosen by --layers auto)"))
        for column in ("", "name", "output shape (one sample)"):
            table.add_column(column)
        for name, shape, chosen in list_layers(args):
            table.add_row("*" if chosen else "", plain(name), "×".join(map(str, shape)))
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
        console.print(plain(f"Added result set {added!r} to {output}."))
        return 0
    from .extract.command import build_plan
    from .extract.progress import run_with_progress

    plan = build_plan(args, output)
    merged = run_with_progress(plan, console)
    if merged is None:
        console.print(plain(f"Shard {plan.shard[0]}/{plan.shard[1]} done. When every shard is done: "
                            f"blocks-tui merge {output}"))
    else:
        console.print(plain(f"Wrote {merged}."))
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
        print(printable(f"{output} is already complete; nothing to merge."))
        return 0
    print(printable(f"Wrote {merge(output)}."))
    return 0


def cmd_bench_extract(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .bench.extract import bench_extract
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
    model.add_argument("--trust-checkpoint", action="store_true",
                       help="allow a checkpoint that needs the full unpickler (a whole saved model); "
                       "it can run code from the file, so only for files you trust")
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
    from .synthetic.scale import generate, parse_channels, write_synthetic_cache

    try:
        channels = parse_channels(args.channels)
    except ValueError as exc:
        raise UsageError(f"--channels: {exc}") from None
    if args.classes < 2 or args.samples < args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least --classes")
    path = writable_output(resolve_cache(args.cache, cache_dir(args)), args.overwrite)
    started = time.perf_counter()
    write_synthetic_cache(path, generate(args.classes, args.samples, channels, seed=args.seed), seed=args.seed)
    print(printable(f"Wrote {path}: {args.classes:,} classes, {args.samples:,} samples, layers of "
          f"{', '.join(map(str, channels))} channels, in {time.perf_counter() - started:.1f} s."))
    return 0


def cmd_bench_analysis(args: argparse.Namespace) -> int:
    from .bench.analysis import Workload, bench_core, bench_seriation, environment, format_table, workload_similarity
    from .synthetic.scale import generate

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
        output = output_beside(Path(args.screenshot), path, "--screenshot")
        shot = screenshot(path, output, (width, height), keys, args.result, args.images)
        print(printable(f"Wrote {shot}."))
        return 0
    return view(path, args.result, args.images)


def cmd_bench_ui(args: argparse.Namespace) -> int:
    from .bench.ui import bench_ui, format_report

    if args.classes < 2 or args.samples < args.classes or min(args.presses, args.repeats) < 1:
        raise UsageError("--classes must be at least 2, --samples at least --classes, "
                         "--presses and --repeats at least 1")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-ui-v2-{args.classes}x{args.samples}.h5"
    report = bench_ui(path, args.classes, args.samples, presses=args.presses, repeats=args.repeats,
                      log=lambda line: print(line, file=sys.stderr))
    print(format_report(report))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .analysis import Tree
    from .analysis.report import build_report, default_comparisons, render
    from .atomic import atomic_write_bytes
    from .cache import open_cache
    from .cache.result_names import check_result, default_result
    from .cache.triage import CacheIdentity, TriageError, read_triage, triage_path

    if min(args.top, args.samples) < 0:
        raise UsageError("--top and --samples must be 0 or more")
    source = resolve_cache(args.cache, cache_dir(args))
    output = Path(args.output) if args.output and args.output != "-" else None
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name such as {output / 'report.md'}")
    if output is not None:
        output_beside(output, source, "--output")
    with open_cache(source) as cache:
        result = args.result or default_result(cache.result_names)
        asked = [n.strip() for n in args.compare.split(",") if n.strip()] if args.compare else None
        for name in [result, *(asked or [])]:
            check_result(cache.result_names, name, cache.path)
        attrs = {name: cache.result(name).attrs for name in cache.result_names}
        compare = asked if asked is not None else default_comparisons(attrs, result)
        identity = CacheIdentity.of_cache(cache)
        path, decisions, status = triage_path(cache.path), [], "none"
        if path.exists():
            try:
                entries, found = read_triage(path)
                if found.matches(identity):
                    decisions, status = entries, "loaded"
                else:
                    status = f"ignored: written for another cache ({found.describe()})"
            except TriageError as exc:
                status = f"ignored: {exc}"
            if status != "loaded":
                sys.stderr.write(printable(f"blocks-tui: warning: {path}: {status}") + "\n")
        report = build_report(
            tree=Tree.from_hierarchy(cache.hierarchy),
            class_names=cache.class_names,
            labels=cache.labels,
            sources=cache.sources,
            results={name: cache.result(name) for name in {result, *compare}},
            result=result,
            compare={name: str(attrs[name].get("transform", name)) for name in compare},
            decisions=decisions,
            cache_info={"file": cache.path.name, "n_samples": cache.n_samples, "n_classes": cache.n_classes,
                        "model": str(cache.config.get("model", "")), "dataset": str(cache.config.get("dataset", ""))},
            triage={"path": str(path), "status": status},
            top_pairs=args.top,
            top_samples=args.samples,
        )
    text = render(report, args.format)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_bytes(output, text.encode("utf-8"))
        sys.stderr.write(printable(f"Wrote {output}.") + "\n")
    return 0


def cmd_dynamics(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .analysis import Tree
    from .analysis.dynamics import dynamics_report, epoch_series, settling_epochs
    from .cache import open_cache

    if not 0 <= args.tolerance <= 100:
        raise UsageError("--tolerance takes points of recall in [0, 100]")
    with open_cache(resolve_cache(args.cache, cache_dir(args))) as cache:
        try:
            series = epoch_series(cache.result_names, lambda name: cache.result(name).attrs, args.series or "")
        except ValueError as exc:
            raise UsageError(f"{cache.path}: {exc}") from None
        tree = Tree.from_hierarchy(cache.hierarchy)
        if not 1 <= args.level < int(tree.depth.max()):
            raise UsageError(f"--level must lie in [1, {int(tree.depth.max()) - 1}] for this hierarchy")
        settling = settling_epochs(tree, cache.labels, [cache.result(name).predicted for _, name in series],
                                   [epoch for epoch, _ in series], args.tolerance / 100)
        title = f"{cache.path}: {len(series)} epochs, the last {series[-1][0]} ({series[-1][1]})"
    report = dynamics_report(tree, settling, [name for _, name in series], args.level)
    if args.json:
        sys.stdout.write(json.dumps(report) + "\n")
        return 0
    shown = list(range(len(series))) if len(series) <= 10 else [0, len(series) // 2, len(series) - 1]
    table = Table(title=Text(f"{printable(title)}\nfirst epoch with recall within {args.tolerance:g} points of its "
                             "final value"),
                  title_justify="left")
    for column in ("node", "classes", *(f"e{series[i][0]} %" for i in shown), "settled at"):
        table.add_column(column, justify="left" if column == "node" else "right")
    fmt = lambda v: "-" if v is None else str(v)  # noqa: E731
    for g in report["groups"]:
        table.add_row(plain(g["name"]), str(g["classes"]), *(fmt(g["recall"][i]) for i in shown), fmt(g["settled"]))
    for level in report["levels"]:
        name = "all leaves" if level["leaves"] else f"all depth {level['depth']}"
        table.add_row(f"[dim]{name}[/]", "", *(fmt(level["recall"][i]) for i in shown), fmt(level["settled"]))
    leaves = report["leaves"]
    Console().print(table)
    median = leaves["median_settled"]
    groups = [g["settled"] for g in report["groups"] if g["settled"] is not None]
    print(f"depth-{args.level} groups settle at epoch {min(groups)}-{max(groups)} (median {float(np.median(groups)):g}); "
          f"the {leaves['count']} leaf classes at median epoch {median:g} (quartiles "
          f"{leaves['quartiles_settled'][0]:g}-{leaves['quartiles_settled'][1]:g})." if groups and median is not None
          else "not enough samples to compare groups and leaf classes.")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from .extract.train_command import check_train_args, run_train

    check_train_args(args)
    kind = args.data.split(":", 1)[0]
    output = writable_output(Path(args.out) if args.out else cache_dir(args) / f"train-{kind}.h5", args.overwrite)
    output.parent.mkdir(parents=True, exist_ok=True)
    report = run_train(args, output, progress=sys.stderr.isatty())
    if args.json:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
        return 0
    heads = ", ".join(f"depth-{h['depth']} groups ({h['groups']}) after {h['stage']}" for h in report.aux_heads)
    table = Table(title=f"top-1 / top-5 error % on the evaluation split ({args.data}, seed {report.seed}, "
                  f"{report.device}, {report.seconds:.0f} s)\nhierarchy-aware: + {heads}, weight {args.aux_weight:g} each",
                  title_justify="left")
    for column in ("epoch", "baseline top-1", "top-5", "hierarchy-aware top-1", "top-5"):
        table.add_column(column, justify="right")
    base1, base5 = report.top1_error["baseline"], report.top5_error["baseline"]
    aware1, aware5 = report.top1_error["hierarchy-aware"], report.top5_error["hierarchy-aware"]
    for e in range(report.epochs):
        table.add_row(str(e + 1), f"{100 * base1[e]:.1f}", f"{100 * base5[e]:.1f}",
                      f"{100 * aware1[e]:.1f}", f"{100 * aware5[e]:.1f}")
    Console().print(table)
    reached = report.epochs_to_baseline()
    print(f"hierarchy-aware reaches the baseline's final top-1 error ({100 * base1[-1]:.1f}%) "
          + (f"at epoch {reached} of {report.epochs}." if reached else "at no epoch.")
          + f" Final top-1 error: baseline {100 * base1[-1]:.1f}%, hierarchy-aware {100 * aware1[-1]:.1f}%.")
    print(printable(f"Wrote {report.cache} (result sets baseline, hierarchy-aware and NAME:epoch-N) and "
                    f"{report.model_dir}/."))
    return 0


def _probe_settings(args: argparse.Namespace, engine: str) -> "ProbeSettings":  # noqa: F821
    """``--engine``/``--device``/``--l2``/``--steps`` as resolved probe settings (UsageError when they cannot work)."""
    from dataclasses import replace

    from .extract.probe import resolve_engine

    if args.l2 is not None and args.l2 < 0:
        raise UsageError("--l2 must be 0 or more")
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")
    settings = resolve_engine(engine, args.device)
    return replace(settings, l2=settings.l2 if args.l2 is None else args.l2, steps=args.steps)


def cmd_probe(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .cache import open_cache
    from .extract.probe import resolve_layers, run_probes_with_progress

    path = resolve_cache(args.cache, cache_dir(args))
    settings = _probe_settings(args, args.engine)
    with open_cache(path) as cache:
        layers = resolve_layers(cache, args.layers)
    console = Console(stderr=True)
    started = time.perf_counter()
    results = run_probes_with_progress(path, layers, settings, console)
    table = Table(title=f"linear probes, held-out (2-fold cross-fitting), {settings.engine} on {settings.device}",
                  title_justify="left")
    for column in ("result set", "features", "top-1", "top-5", "seconds"):
        table.add_column(column, justify="left" if column in ("result set", "features") else "right")
    for r in results:
        table.add_row(plain(r.result_name), f"{r.n_features:,} {r.features}", f"{100 * r.top1:.1f}%", f"{100 * r.top5:.1f}%",
                      f"{r.seconds:.1f}")
    Console().print(table)
    console.print(plain(f"Wrote {len(results)} probe result sets to {path} in {time.perf_counter() - started:.1f} s "
                        "(a re-run replaces them)."))
    return 0


def cmd_bench_probe(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .cache import open_cache
    from .synthetic.scale import generate, parse_channels, write_synthetic_cache
    from .bench.probe import bench_probe
    from .extract.probe import resolve_layers

    try:
        channels = parse_channels(args.channels)
    except ValueError as exc:
        raise UsageError(f"--channels: {exc}") from None
    if args.classes < 2 or args.samples < 2 * args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least twice --classes")
    path = Path(args.path) if args.path else cache_dir(args) / f"bench-probe-{args.samples}x{args.classes}.h5"
    console = Console(stderr=True)
    if not path.exists():
        console.print(plain(f"Writing {path} ({args.samples:,} samples, {args.classes:,} classes) once..."))
        write_synthetic_cache(path, generate(args.classes, args.samples, channels, seed=0), seed=0)
    engines = [_probe_settings(args, "scipy"), _probe_settings(args, "torch")]
    with open_cache(path) as cache:
        layers = resolve_layers(cache, args.layers)
    runs = bench_probe(path, layers, engines, console)
    names = [f"{e.engine} ({e.device})" for e in engines]
    table = Table(title=Text(printable(f"probe {path.name}: seconds per layer (both folds) and held-out top-1")),
                  title_justify="left")
    table.add_column("layer")
    for name in names:
        table.add_column(f"{name} s", justify="right")
        table.add_column(f"{name} top-1", justify="right")
    for i, layer in enumerate(layers):
        table.add_row(plain(f"{layer} ({runs[0][i].n_features:,})"),
                      *(cell for run in runs for cell in (f"{run[i].seconds:.1f}", f"{100 * run[i].top1:.1f}%")))
    totals = [sum(r.seconds for r in run) for run in runs]
    table.add_row("all layers", *(cell for t in totals for cell in (f"{t:.1f}", "")))
    Console().print(table)
    print(f"ratio: {names[1]} takes {totals[1] / totals[0]:.2f}x the time of {names[0]} "
          f"({engines[0].steps_per_fold} L-BFGS iterations vs {engines[1].steps_per_fold} Adam epochs per fold)")
    return 0


def _add_images_option(p: argparse.ArgumentParser) -> None:
    from .tui.images import MODES

    p.add_argument("--images", choices=MODES, default="auto",
                   help="how the sample pane draws thumbnails: auto (Sixel or Kitty graphics when the terminal "
                   "answers, half cells inside tmux or otherwise), tgp, sixel, halfcell, unicode, off "
                   "(default: auto)")


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
    _add_images_option(demo)
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
    _add_images_option(view)
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
    report = sub.add_parser(
        "report", parents=[common], help="write the triage report: decisions and candidates, as md, csv or json",
        description="Write what a data curator acts on: the saved triage decisions (NAME.triage.json), the "
        "class pairs confused across the hierarchy's blocks (redundant, subclass, label noise, ambiguous), "
        "the mislabel candidates and the groups sensitive to colour or rotation, with sample ids and source "
        "paths.  Needs no terminal.",
    )
    report.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    report.add_argument("--format", choices=("md", "csv", "json"), default="md", help="(default: md)")
    report.add_argument("-o", "--output", metavar="PATH",
                        help="write here instead of standard output (- is standard output); never over the cache, "
                        "its triage file, or anything but a regular file")
    report.add_argument("--result", metavar="NAME", help="result set to triage (default: original)")
    report.add_argument("--compare", metavar="A,B", help="result sets to compare with it for sensitive groups "
                        "(default: those made by a transform, such as grayscale and rot90)")
    report.add_argument("--top", type=int, default=20, metavar="N", help="class pairs to list (default: 20)")
    report.add_argument("--samples", type=int, default=50, metavar="N",
                        help="mislabel candidates to list (default: 50)")
    report.set_defaults(func=cmd_report)
    dynamics = sub.add_parser(
        "dynamics", parents=[common], help="when each group's recall settles during training (paper §4.1.1)",
        description="For a cache with epoch-N result sets (the demo writes one per epoch; the final model is "
        "'original' with an 'epoch' attribute, or the largest N), print the first epoch at which each group's "
        "recall came within --tolerance points of its final value, next to the leaf classes'.",
    )
    dynamics.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    dynamics.add_argument("--level", type=int, default=1, metavar="D", help="list the groups at depth D (default: 1)")
    dynamics.add_argument("--series", metavar="NAME", help="read NAME:epoch-N and NAME (e.g. baseline, from train)")
    dynamics.add_argument("--tolerance", type=float, default=5.0, metavar="P", help="points of recall (default: 5)")
    dynamics.add_argument("--json", action="store_true", help="print the same content as JSON")
    dynamics.set_defaults(func=cmd_dynamics)

    train = sub.add_parser(
        "train", parents=[common], help="train a baseline and a hierarchy-aware CNN and compare them (§4.1.3)",
        description="Train the demo CNN twice with the same data, budget and seed: plainly, and with auxiliary "
        "heads that classify coarse hierarchy groups after intermediate stages (dropped after training). "
        "Prints top-1/top-5 error per epoch (the paper's Table 1) and writes both models' result sets into "
        "one cache. Nothing downloads.",
    )
    train.add_argument("--data", default="demo", metavar="KIND:PATH",
                       help="demo, cifar100:PATH (python pickles) or imagefolder:PATH (default: demo)")
    train.add_argument("--hierarchy", default="auto", metavar="H", help="auto, FILE.json or none (default: auto)")
    train.add_argument("--epochs", type=int, default=7, help="(default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="initialisation and batch order (default: 0)")
    train.add_argument("--out", metavar="CACHE", help="the cache to write (default: CACHE_DIR/train-KIND.h5)")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda[:i] (default: auto)")
    train.add_argument("--aux-weight", type=float, default=0.3, metavar="W",
                       help="loss weight of each auxiliary head (default: %(default)s)")
    train.add_argument("--batch-size", type=int, default=128, help="(default: %(default)s)")
    train.add_argument("--lr", type=float, default=0.02, help="peak one-cycle learning rate (default: %(default)s)")
    train.add_argument("--limit", type=int, metavar="N", help="train on a stratified subset of N samples")
    train.add_argument("--eval-limit", type=int, metavar="N", help="evaluate on a stratified subset of N samples")
    train.add_argument("--image-size", type=int, default=32, metavar="PX",
                       help="side images are loaded at, for imagefolder (default: 32)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    train.add_argument("--json", action="store_true", help="print the per-epoch errors as JSON")
    train.set_defaults(func=cmd_train)

    def probe_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--layers", metavar="A,B", help="layers to probe (default: all, early to late)")
        p.add_argument("--device", default="auto", help="auto, cpu or cuda[:i] (default: auto)")
        p.add_argument("--l2", type=float, metavar="X", help="L2 weight on the mean softmax loss (default: 0.01)")
        p.add_argument("--steps", type=int, metavar="N",
                       help="L-BFGS iterations (scipy, default 10) or Adam epochs (torch, default 10) per fold")

    probe = sub.add_parser(
        "probe", parents=[common], help="train a linear probe per layer; store held-out predictions as probe:<layer>",
        description="Train a linear softmax classifier on each layer's cached responses (the per-sample d×d maps "
        "when stored, else the per-channel collective responses), standardised on the training fold.  A "
        "deterministic class-stratified split halves the samples; the probe trained on each half predicts the "
        "other (2-fold cross-fitting), so every stored prediction is held-out.  The predictions become result "
        "sets probe:<layer> and the split is recorded in the cache; a re-run replaces them.",
    )
    probe.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=cache_help)
    probe_options(probe)
    probe.add_argument("--engine", default="auto", choices=("auto", "torch", "scipy"),
                       help="auto: torch on a GPU, else scipy (default: auto)")
    probe.set_defaults(func=cmd_probe)
    bench_probe = bench_sub.add_parser(
        "probe", parents=[common], help="probe every layer of a 50k x 1000 synthetic cache: scipy vs torch",
        description="Write (once) a synthetic cache and probe all its layers with the scipy engine (L-BFGS) and "
        "the torch engine (Adam) in the same run, nothing written: seconds per layer, held-out top-1, ratio.",
    )
    bench_probe.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    bench_probe.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    bench_probe.add_argument("--channels", default="256,512,1024,2048", metavar="C1,C2,...",
                             help="channels of each layer, 1 to 4 layers (default: %(default)s)")
    bench_probe.add_argument("--path", metavar="FILE", help="where to keep the synthetic cache")
    probe_options(bench_probe)
    bench_probe.set_defaults(func=cmd_bench_probe)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``blocks-tui`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BlocksError as exc:
        sys.stderr.write(f"blocks-tui: error: {printable(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("blocks-tui: interrupted\n")
        return 130
    except OSError as exc:  # disk full, read-only folder, permissions: the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"blocks-tui: error: {printable(where)}{printable(exc.strerror or exc)}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's promise is one line, not a traceback
        if os.environ.get("BLOCKS_TUI_DEBUG"):
            raise
        sys.stderr.write(
            f"blocks-tui: internal error: {type(exc).__name__}: {printable(exc)} (set BLOCKS_TUI_DEBUG=1 for the "
            "traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
