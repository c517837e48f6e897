"""Options that several subcommands share, declared once so their spelling and help agree.

Declaring an option imports nothing heavy: the parser is built on every
start, and ``info`` or ``--help`` must stay fast.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import UsageError
from .paths import CACHE_DIR_ENV, DEFAULT_CACHE_DIR, DEMO_NAME

if TYPE_CHECKING:
    from ..extract.probe import ProbeSettings

CACHE_HELP = "a cache file, or a name in the cache folder (default: demo)"


def common_options() -> argparse.ArgumentParser:
    """The parent parser of every subcommand that reads or writes the cache folder."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--cache-dir", metavar="DIR",
        help=f"folder of caches (default: ${CACHE_DIR_ENV}, else ./{DEFAULT_CACHE_DIR})",
    )
    return common


def add_cache_argument(p: argparse.ArgumentParser) -> None:
    """The optional ``CACHE`` argument: a file, or a name in the cache folder (default: demo)."""
    p.add_argument("cache", nargs="?", default=DEMO_NAME, metavar="CACHE", help=CACHE_HELP)


def add_images_option(p: argparse.ArgumentParser) -> None:
    from ..tui.images import MODES

    p.add_argument("--images", choices=MODES, default="auto",
                   help="how the sample pane draws thumbnails: auto (Sixel or Kitty graphics when the terminal "
                   "answers, half cells inside tmux or otherwise), tgp, sixel, halfcell, unicode, off "
                   "(default: auto)")


def add_extract_options(p: argparse.ArgumentParser, bench: bool = False) -> None:
    """``extract``'s model, data, recording and running options (``bench extract`` has smaller defaults)."""
    model = p.add_argument_group("model")
    model.add_argument("--model", metavar="NAME", default="resnet18" if bench else None,
                       help="a torchvision classifier (resnet50, vit_b_16, ...) or package.module:factory")
    model.add_argument("--weights", default="none" if bench else None, metavar="W",
                       help="DEFAULT, a weights name such as IMAGENET1K_V2, or none (default: DEFAULT; none with "
                       "--checkpoint, whose file holds the weights)")
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


def add_probe_options(p: argparse.ArgumentParser) -> None:
    """``probe``'s and ``bench probe``'s layer and optimiser options."""
    p.add_argument("--layers", metavar="A,B", help="layers to probe (default: all, early to late)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:i] (default: auto)")
    p.add_argument("--l2", type=float, metavar="X", help="L2 weight on the mean softmax loss (default: 0.01)")
    p.add_argument("--steps", type=int, metavar="N",
                   help="L-BFGS iterations (scipy, default 10) or Adam epochs (torch, default 10) per fold")


def probe_settings(args: argparse.Namespace, engine: str) -> ProbeSettings:
    """``--engine``/``--device``/``--l2``/``--steps`` as resolved probe settings (UsageError when they cannot work)."""
    from dataclasses import replace

    from ..extract.probe import resolve_engine

    if args.l2 is not None and args.l2 < 0:
        raise UsageError("--l2 must be 0 or more")
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")
    settings = resolve_engine(engine, args.device)
    return replace(settings, l2=settings.l2 if args.l2 is None else args.l2, steps=args.steps)


def add_channels_option(p: argparse.ArgumentParser) -> None:
    """The synthetic cache's layer widths (``make-synthetic``, ``bench probe``)."""
    p.add_argument("--channels", default="256,512,1024,2048", metavar="C1,C2,...",
                   help="channels of each layer, 1 to 4 layers (default: %(default)s)")


def channels_of(args: argparse.Namespace) -> tuple[int, ...]:
    """``--channels`` parsed, or a UsageError that quotes the problem."""
    from ..synthetic.scale import parse_channels

    try:
        return parse_channels(args.channels)
    except ValueError as exc:
        raise UsageError(f"--channels: {exc}") from None


def check_classes_and_samples(args: argparse.Namespace) -> None:
    """A synthetic cache needs two classes and a sample of each (``make-synthetic``, ``bench open``)."""
    if args.classes < 2 or args.samples < args.classes:
        raise UsageError("--classes must be at least 2 and --samples at least --classes")
