"""``blocks-tui train``: a baseline and a hierarchy-aware CNN, trained alike and compared (§4.1.3)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .paths import cache_dir, writable_output


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", parents=[common], help="train a baseline and a hierarchy-aware CNN and compare them (§4.1.3)",
        description="Train the demo CNN twice with the same data, budget and seed: plainly, and with auxiliary "
        "heads that classify coarse hierarchy groups after intermediate stages (dropped after training). "
        "Prints top-1/top-5 error per epoch (the paper's Table 1) and writes both models' result sets into "
        "one cache. Nothing downloads.",
    )
    p.add_argument("--data", default="demo", metavar="KIND:PATH",
                   help="demo, cifar100:PATH (python pickles) or imagefolder:PATH (default: demo)")
    p.add_argument("--hierarchy", default="auto", metavar="H", help="auto, FILE.json or none (default: auto)")
    p.add_argument("--epochs", type=int, default=7, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and batch order (default: 0)")
    p.add_argument("--out", metavar="CACHE", help="the cache to write (default: CACHE_DIR/train-KIND.h5)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:i] (default: auto)")
    p.add_argument("--aux-weight", type=float, default=0.3, metavar="W",
                   help="loss weight of each auxiliary head (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.02, help="peak one-cycle learning rate (default: %(default)s)")
    p.add_argument("--limit", type=int, metavar="N", help="train on a stratified subset of N samples")
    p.add_argument("--eval-limit", type=int, metavar="N", help="evaluate on a stratified subset of N samples")
    p.add_argument("--image-size", type=int, default=32, metavar="PX",
                   help="side images are loaded at, for imagefolder (default: 32)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    p.add_argument("--json", action="store_true", help="print the per-epoch errors as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from ..extract.train_command import check_train_args, run_train
    from ..render.training import render_training

    check_train_args(args)
    kind = args.data.split(":", 1)[0]
    output = writable_output(Path(args.out) if args.out else cache_dir(args) / f"train-{kind}.h5", args.overwrite)
    output.parent.mkdir(parents=True, exist_ok=True)
    report = run_train(args, output, progress=sys.stderr.isatty())
    if args.json:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
        return 0
    render_training(Console(), report, args.data, args.aux_weight)
    return 0
