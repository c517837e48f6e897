"""``blocks-tui make-synthetic``: a realistic-scale synthetic cache from numpy alone."""

from __future__ import annotations

import argparse
import time

from ..safe_text import printable
from .options import add_channels_option, channels_of, check_classes_and_samples
from .paths import the_cache, writable_output


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "make-synthetic", parents=[common], help="write a realistic-scale synthetic cache (numpy only, no GPU)",
        description="Plant a deep WordNet-like class tree, confusions in nested blocks with block outliers, "
        "mislabels, latent subclasses and layers of channel responses, and write them as a cache: the viewer "
        "and the analysis at ImageNet scale without a GPU, torch or a download.",
    )
    p.add_argument("cache", nargs="?", default="synthetic", metavar="CACHE",
                   help="a file, or a name in the cache folder (default: synthetic)")
    p.add_argument("--classes", type=int, default=1000, help="classes (default: 1000)")
    p.add_argument("--samples", type=int, default=50_000, help="samples (default: 50000)")
    add_channels_option(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    return p


def run(args: argparse.Namespace) -> int:
    from ..synthetic.scale import generate, write_synthetic_cache

    channels = channels_of(args)
    check_classes_and_samples(args)
    path = writable_output(the_cache(args), args.overwrite)
    started = time.perf_counter()
    write_synthetic_cache(path, generate(args.classes, args.samples, channels, seed=args.seed), seed=args.seed)
    print(printable(f"Wrote {path}: {args.classes:,} classes, {args.samples:,} samples, layers of "
          f"{', '.join(map(str, channels))} channels, in {time.perf_counter() - started:.1f} s."))
    return 0
