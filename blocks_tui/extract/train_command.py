"""``blocks-tui train``: both models, one cache, and the paper's Table 1.

The cache holds the evaluation samples once and, for each model, its final
result set (``baseline``, ``hierarchy-aware``; attribute ``epoch`` = the last
epoch) plus one per earlier epoch (``baseline:epoch-N``,
``hierarchy-aware:epoch-N``), so the viewer compares the two models and
``blocks-tui dynamics CACHE --series baseline`` reads each one's training
dynamics.  No layer responses are stored: two models have two sets of
responses, and a cache holds one; ``extract --checkpoint`` on a saved model
records them when wanted.
"""

from __future__ import annotations

import time
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..analysis.hierarchy import Tree
from ..cache import CacheWriter
from ..cache.result_names import epoch_name
from ..errors import UsageError
from ..nn.demo_cnn import CHANNELS, LAYERS
from ..nn.training import (
    MODEL_NAMES,
    RESPONSE_CELLS,
    LabelledImages,
    TaskProgress,
    TrainedRun,
    TrainSettings,
    epochs_to_reach,
    plan_aux_heads,
    train_pair,
)
from .command import pick_device
from .training_data import load_labelled_images


@dataclass(frozen=True)
class TrainReport:
    """What ``train`` measured: per-epoch errors of both models and where it wrote them."""

    cache: Path
    model_dir: Path
    device: str
    seconds: float
    epochs: int
    seed: int
    aux_heads: list[dict[str, Any]]
    top1_error: dict[str, list[float]]
    top5_error: dict[str, list[float]]

    def epochs_to_baseline(self) -> int | None:
        """The first epoch at which the hierarchy-aware model's top-1 error is at or below the baseline's final one."""
        return epochs_to_reach(self.top1_error["hierarchy-aware"], self.top1_error["baseline"][-1])

    def as_json(self) -> dict[str, Any]:
        return {
            "cache": str(self.cache), "model_dir": str(self.model_dir), "device": self.device,
            "seconds": round(self.seconds, 2), "epochs": self.epochs, "seed": self.seed,
            "aux_heads": self.aux_heads, "top1_error": self.top1_error, "top5_error": self.top5_error,
            "hierarchy_aware_reaches_baseline_final_top1_at_epoch": self.epochs_to_baseline(),
        }


def check_train_args(args: Namespace) -> None:
    """Numbers that make no sense fail before any data is loaded."""
    if args.epochs < 1:
        raise UsageError("--epochs must be at least 1")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if not args.lr > 0:
        raise UsageError("--lr must be positive")
    if args.aux_weight < 0:
        raise UsageError("--aux-weight must be 0 or more")


def run_train(args: Namespace, output: Path, progress: bool = True) -> TrainReport:
    """Load the data, train both models, write the cache and the two saved models."""
    check_train_args(args)
    device = pick_device(args.device)
    data = load_labelled_images(args.data, args.hierarchy, args.limit, args.eval_limit, args.image_size)
    if not plan_aux_heads(Tree.from_hierarchy(data.hierarchy), len(CHANNELS)):
        raise UsageError(f"the hierarchy of {args.data} has no groups for auxiliary heads; pass --hierarchy FILE.json")
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    model_dir = output.parent / f"{output.stem}-models"
    started = time.perf_counter()
    with TaskProgress(progress) as bar:
        baseline, aware = train_pair(data, settings, device, args.aux_weight, model_dir, bar)
    seconds = time.perf_counter() - started
    heads = [h.describe() for h in aware.model.heads]  # type: ignore[union-attr]
    report = TrainReport(
        output, model_dir, _device_name(device), seconds, settings.epochs, settings.seed, heads,
        {r.name: r.top1_error for r in (baseline, aware)}, {r.name: r.top5_error for r in (baseline, aware)},
    )
    write_training_cache(output, data, (baseline, aware), _run_config(args, data, settings, report))
    return report


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _run_config(args: Namespace, data: LabelledImages, settings: TrainSettings, report: TrainReport) -> dict[str, Any]:
    return {
        "producer": f"blocks-tui {__version__}",
        "model": "demo-cnn",
        "dataset": data.description,
        "split": "eval",
        "trainer": "blocks-tui train",
        "settings": {"epochs": settings.epochs, "batch_size": settings.batch_size, "lr": settings.lr,
                     "weight_decay": settings.weight_decay, "seed": settings.seed, "hflip": settings.hflip},
        "limit": args.limit,
        "eval_limit": args.eval_limit,
        "image_size": args.image_size,
        "aux_heads": report.aux_heads,
        "layers": [layer_name(model, stage) for model in MODEL_NAMES for stage in LAYERS],
        "d": RESPONSE_CELLS,
        "models": {name: str(report.model_dir / f"{name}.pt") for name in MODEL_NAMES},
        "top1_error": report.top1_error,
        "top5_error": report.top5_error,
        "device": report.device,
        "train_seconds": round(report.seconds, 2),
        "k": 5,
    }


def layer_name(model: str, stage: str) -> str:
    """The cache's name for one stage of one trained model."""
    return f"{model}:{stage}"


def write_training_cache(path: Path, data: LabelledImages, runs: tuple[TrainedRun, ...], config: dict[str, Any]) -> Path:
    """One cache with every model's final and per-epoch result sets (atomic, via CacheWriter)."""
    h = data.hierarchy
    with CacheWriter(path, config) as writer:
        writer.write_classes(data.class_names, data.class_ids)
        writer.write_hierarchy(h.names, h.parent, h.class_index, source=h.source)
        writer.write_samples(data.eval_labels, data.eval_sources, data.eval_thumbnails)
        for run in runs:
            last = len(run.epochs)
            attrs = {"model": run.name, "epoch": last, "transform": "original",
                     "checkpoint": str(run.saved) if run.saved else ""}
            writer.write_result_set(run.name, run.final.topk_index, run.final.topk_prob, run.final.true_prob, attrs)
        for run in runs:
            for epoch, result in enumerate(run.epochs[:-1], start=1):
                writer.write_result_set(epoch_name(epoch, run.name), result.topk_index, result.topk_prob,
                                        result.true_prob, {"model": run.name, "epoch": epoch, "transform": "original"})
        for run in runs:  # each final model's stages, as "baseline:stage1": the response map compares them
            final = run.final
            for layer in final.collective:
                writer.write_layer(layer_name(run.name, layer), final.class_mean[layer], final.collective[layer],
                                   output_shape=final.output_shapes[layer])
        if data.ground_truth is not None:
            writer.write_ground_truth(data.ground_truth)
    return path

