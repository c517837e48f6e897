"""``blocks-tui bench ...``: the benchmarks, one module each, grouped under one subcommand.

Like :mod:`blocks_tui.cli` for the top-level commands, this module connects
each benchmark's parser to its ``run``; the measurements themselves live in
:mod:`blocks_tui.bench`.
"""

from __future__ import annotations

import argparse

from . import analysis, cache_open, demo, extract, probe, scale, ui

BENCHMARKS = (cache_open, extract, demo, analysis, ui, scale, probe)
"""In the order ``bench --help`` lists them."""


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", help="measure how fast blocks-tui is on this machine",
                              description="Benchmarks, each against a baseline measured in the same run.")
    benchmarks = p.add_subparsers(dest="bench", metavar="BENCH")  # parsers of the same class as p
    benchmarks.required = True
    for benchmark in BENCHMARKS:
        benchmark.add_parser(benchmarks, common).set_defaults(func=benchmark.run)
    return p
