"""``blocks-tui probe``: a linear probe per layer, stored as held-out ``probe:<layer>`` result sets."""

from __future__ import annotations

import argparse
import time

from ..safe_text import plain
from .options import add_cache_argument, add_probe_options, probe_settings
from .paths import existing_cache


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "probe", parents=[common], help="train a linear probe per layer; store held-out predictions as probe:<layer>",
        description="Train a linear softmax classifier on each layer's cached responses (the per-sample d×d maps "
        "when stored, else the per-channel collective responses), standardised on the training fold.  A "
        "deterministic class-stratified split halves the samples; the probe trained on each half predicts the "
        "other (2-fold cross-fitting), so every stored prediction is held-out.  The predictions become result "
        "sets probe:<layer> and the split is recorded in the cache; a re-run replaces them.",
    )
    add_cache_argument(p)
    add_probe_options(p)
    p.add_argument("--engine", default="auto", choices=("auto", "torch", "scipy"),
                   help="auto: torch on a GPU, else scipy (default: auto)")
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cache import open_cache
    from ..extract.probe import resolve_layers, run_probes_with_progress
    from ..render.probes import render_probes

    path = existing_cache(args)
    settings = probe_settings(args, args.engine)
    with open_cache(path) as cache:
        layers = resolve_layers(cache, args.layers)
    console = Console(stderr=True)
    started = time.perf_counter()
    results = run_probes_with_progress(path, layers, settings, console)
    render_probes(Console(), results, settings)
    console.print(plain(f"Wrote {len(results)} probe result sets to {path} in {time.perf_counter() - started:.1f} s "
                        "(a re-run replaces them)."))
    return 0
