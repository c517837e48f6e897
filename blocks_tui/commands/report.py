"""``blocks-tui report``: the triage report (decisions and candidates) as md, csv or json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..safe_text import printable
from .options import add_cache_argument
from .paths import output_beside, existing_cache

if TYPE_CHECKING:
    from ..analysis.report import Report
    from ..cache import Cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", parents=[common], help="write the triage report: decisions and candidates, as md, csv or json",
        description="Write what a data curator acts on: the saved triage decisions (NAME.triage.json), the "
        "class pairs confused across the hierarchy's blocks (redundant, subclass, label noise, ambiguous), "
        "the mislabel candidates and the groups sensitive to colour or rotation, with sample ids and source "
        "paths.  Needs no terminal.",
    )
    add_cache_argument(p)
    p.add_argument("--format", choices=("md", "csv", "json"), default="md", help="(default: md)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write here instead of standard output (- is standard output); never over the cache, "
                   "its triage file, or anything but a regular file")
    p.add_argument("--result", metavar="NAME", help="result set to triage (default: original)")
    p.add_argument("--compare", metavar="A,B", help="result sets to compare with it for sensitive groups "
                   "(default: those made by a transform, such as grayscale and rot90)")
    p.add_argument("--top", type=int, default=20, metavar="N", help="class pairs to list (default: 20)")
    p.add_argument("--samples", type=int, default=50, metavar="N",
                   help="mislabel candidates to list (default: 50)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..analysis.report import render
    from ..atomic import atomic_write_bytes
    from ..cache import open_cache

    if min(args.top, args.samples) < 0:
        raise UsageError("--top and --samples must be 0 or more")
    source = existing_cache(args)
    output = Path(args.output) if args.output and args.output != "-" else None
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name such as {output / 'report.md'}")
    if output is not None:
        output_beside(output, source, "--output")
    with open_cache(source) as cache:
        text = render(_report(cache, args), args.format)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_bytes(output, text.encode("utf-8"))
        sys.stderr.write(printable(f"Wrote {output}.") + "\n")
    return 0


def _report(cache: Cache, args: argparse.Namespace) -> Report:
    """The report on ``--result`` against ``--compare``, with the saved decisions when they fit this cache."""
    from ..analysis import Tree
    from ..analysis.report import build_report, default_comparisons
    from ..cache.saved_triage import saved_decisions

    result = cache.require_result(args.result)
    asked = [n.strip() for n in args.compare.split(",") if n.strip()] if args.compare else None
    for name in asked or []:
        cache.require_result(name)
    attrs = {name: cache.result(name).attrs for name in cache.result_names}
    compare = asked if asked is not None else default_comparisons(attrs, result)
    saved = saved_decisions(cache)
    if saved.status not in ("loaded", "none"):
        sys.stderr.write(printable(f"blocks-tui: warning: {saved.path}: {saved.status}") + "\n")
    return build_report(
        tree=Tree.from_hierarchy(cache.hierarchy),
        class_names=cache.class_names,
        labels=cache.labels,
        sources=cache.sources,
        results={name: cache.result(name) for name in {result, *compare}},
        result=result,
        compare={name: str(attrs[name].get("transform", name)) for name in compare},
        decisions=saved.entries,
        cache_info={"file": cache.path.name, "n_samples": cache.n_samples, "n_classes": cache.n_classes,
                    "model": str(cache.config.get("model", "")), "dataset": str(cache.config.get("dataset", ""))},
        triage={"path": str(saved.path), "status": saved.status},
        top_pairs=args.top,
        top_samples=args.samples,
    )
