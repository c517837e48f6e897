"""From ``blocks-tui extract`` options to an :class:`ExtractPlan`.

Everything that can be checked before the first batch is checked here, so a
wrong path, an unknown layer or a class-count mismatch fails in a second
with one line rather than after an hour of GPU time.
"""

from __future__ import annotations

import os
import shlex
import sys
from argparse import Namespace
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..cache import HierarchyArrays
from ..cache.result_names import default_result
from ..errors import UsageError
from ..nn.variants import parse_variants
from .datasets import DataSource, open_data
from .hierarchies import flat_hierarchy, json_hierarchy
from .layers import cells_per_side, probe_layers, resolve_layers
from .models import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, TransformSpec, load_model
from .runner import ExtractPlan


def parse_shard(spec: str | None) -> tuple[int, int]:
    """``i/n`` from ``--shard``, else torchrun's ``RANK``/``WORLD_SIZE``, else ``0/1``."""
    if spec is None:
        rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
        if rank is None or world is None:
            return 0, 1
        spec = f"{rank}/{world}"
    try:
        index, count = (int(v) for v in spec.split("/"))
    except ValueError:
        raise UsageError(f"--shard takes i/n, e.g. 0/4, got {spec!r}") from None
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"--shard {spec}: need 0 <= i < n")
    return index, count


def pick_device(spec: str) -> torch.device:
    """``auto`` is the first CUDA device when there is one, else the CPU."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise UsageError(f"unknown device {spec!r}; use auto, cpu or cuda[:i]") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {spec}: CUDA is not available on this machine")
    return device


def transform_from(args: Namespace) -> TransformSpec | None:
    """``--resize/--crop/--mean/--std`` when any is given; None keeps the weights' own."""
    def floats(text: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
        if text is None:
            return default
        try:
            values = tuple(float(v) for v in text.split(","))
        except ValueError:
            raise UsageError(f"expected three comma-separated numbers, got {text!r}") from None
        if len(values) != 3:
            raise UsageError(f"expected three comma-separated numbers, got {text!r}")
        return values
    if args.resize is None and args.crop is None and args.mean is None and args.std is None:
        return None
    std = floats(args.std, IMAGENET_STD)
    if any(v == 0 for v in std):
        raise UsageError("--std values must be non-zero")
    crop = args.crop if args.crop is not None else 224
    return TransformSpec(resize=args.resize if args.resize is not None else crop, crop=crop,
                         mean=floats(args.mean, IMAGENET_MEAN), std=std)


def _demo_split() -> tuple[Any, ...]:
    from ..synthetic.demo_data import demo_eval_split

    return demo_eval_split()


def choose_hierarchy(option: str, data: DataSource, class_names: list[str]) -> HierarchyArrays:
    """``--hierarchy auto|wordnet|cifar100|FILE.json|none`` for these classes."""
    if option == "none":
        return flat_hierarchy(class_names)
    if option in ("auto", "wordnet", "cifar100", "demo"):
        if data.hierarchy is not None and (option == "auto" or data.hierarchy.source == option):
            return data.hierarchy
        if option == "auto":
            return flat_hierarchy(class_names)
        raise UsageError(f"--hierarchy {option}: the data set {data.kind}:{data.root} has no {option} hierarchy")
    return json_hierarchy(Path(option), class_names, data.class_ids)


def check_numbers(args: Namespace) -> None:
    """Options that make no sense fail before any data or model is loaded."""
    if args.k < 5:
        raise UsageError("--k must be at least 5 (the cache keeps the top 5 or more)")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.workers is not None and args.workers < 0:
        raise UsageError("--workers must be 0 or more")
    for name in ("resize", "crop", "num_classes", "limit", "downsample"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")


def weights_of(args: Namespace) -> str:
    """``--weights`` as given, else DEFAULT, or none with ``--checkpoint``: a checkpoint says where its
    weights come from, and published weights would only have to match its head."""
    return args.weights or ("none" if args.checkpoint else "DEFAULT")


def model_from(args: Namespace, num_classes: int | None) -> LoadedModel:
    """The model the ``--model/--weights/--checkpoint/--resize...`` options describe."""
    return load_model(args.model, weights_of(args), Path(args.checkpoint) if args.checkpoint else None,
                      num_classes, transform_from(args), args.download,
                      trust_checkpoint=getattr(args, "trust_checkpoint", False))


def build_plan(args: Namespace, output: Path, config_extra: dict[str, Any] | None = None) -> ExtractPlan:
    """Load the data and the model, check that they fit, and resolve layers."""
    check_numbers(args)
    torch.manual_seed(args.seed)
    data = open_data(args.data, download=args.download, limit=args.limit, demo_split=_demo_split)
    num_classes = args.num_classes
    if num_classes is None and weights_of(args).lower() == "none" and not args.checkpoint:
        num_classes = len(data.class_names)  # a fresh, untrained head: size it to the data
    loaded = model_from(args, num_classes)
    if loaded.num_classes != len(data.class_names):
        raise UsageError(
            f"the model has {loaded.num_classes} classes but {args.data} has {len(data.class_names)}; "
            "pass --num-classes with a matching --checkpoint, or pick the matching data set"
        )
    class_names = loaded.class_names if loaded.class_names and not data.class_ids else data.class_names
    crop = loaded.transform.crop
    layers = resolve_layers(loaded.model, args.layers, crop)
    infos = {i.name: i for i in probe_layers(loaded.model, layers, crop)}
    missing = [name for name in layers if name not in infos]
    if missing:
        raise UsageError(f"layer {missing[0]!r} produced no tensor output; choose another (see --list-layers)")
    cells = {name: cells_per_side(infos[name], args.downsample) for name in layers}
    variants = parse_variants(args.variants)
    result_names = {v: v for v in variants}
    if args.result_name:
        result_names[default_result(variants)] = args.result_name
    config = {
        "producer": f"blocks-tui {__version__}",
        "model": loaded.name,
        "weights": loaded.weights,
        "checkpoint": loaded.checkpoint,
        "checkpoint_sha256": loaded.checkpoint_sha256,
        "dataset": args.data,
        "limit": args.limit,
        "transform": loaded.transform.as_config(),
        "layers": cells,
        "variants": variants,
        "seed": args.seed,
        "k": args.k,
        **(config_extra or {}),
    }
    return ExtractPlan(
        output=output,
        data=data,
        model=loaded.model,
        transform=loaded.transform.build(),
        crop=crop,
        mean=loaded.transform.mean,
        std=loaded.transform.std,
        class_names=class_names,
        class_ids=data.class_ids,
        hierarchy=choose_hierarchy(args.hierarchy, data, class_names),
        layers=cells,
        output_shapes={name: infos[name].output_shape for name in layers},
        variants=variants,
        result_names=result_names,
        config=config,
        k=args.k,
        batch_size=args.batch_size,
        workers=args.workers if args.workers is not None else min(8, os.cpu_count() or 1),
        device=pick_device(args.device),
        shard=parse_shard(getattr(args, "shard", None)),
        maps=args.maps,
        overwrite=bool(getattr(args, "overwrite", False)),
        resume_hint=_resume_hint(sys.argv[1:]),
    )


def _resume_hint(argv: list[str]) -> str:
    """The command that continues this run: the same one, less ``--overwrite`` (which would start over)."""
    kept = [a for a in argv if a != "--overwrite"]
    return "blocks-tui " + " ".join(shlex.quote(a) for a in kept) if kept else ""


def list_layers(args: Namespace) -> list[tuple[str, tuple[int, ...], bool]]:
    """(name, output shape, chosen by auto) for the model's backbone modules."""
    from .layers import auto_layers, backbone_candidates

    check_numbers(args)
    loaded = model_from(args, args.num_classes)
    crop = loaded.transform.crop
    chosen = set(auto_layers(loaded.model, crop))
    return [(i.name, i.output_shape, i.name in chosen)
            for i in probe_layers(loaded.model, backbone_candidates(loaded.model), crop)]
