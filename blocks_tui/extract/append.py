"""``extract --result-name NAME`` on an existing cache: add one result set over its samples.

This is how a cache grows across training checkpoints (the paper's Fig. 6):
the same samples, matched by source, through another checkpoint.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from ..cache import open_cache
from ..cache.writer import append_result_set
from ..errors import BlocksError, UsageError
from ..nn.inference import logits_of, predict
from ..nn.variants import apply_variant
from .command import build_plan
from .loader import SampleDataset, sample_loader


def append_results(args: Namespace, output: Path, console: Console) -> str:
    """Predict the cache's samples with the given model and append them as ``args.result_name``."""
    with open_cache(output) as cache:
        sources, labels, n_classes = cache.sources, cache.labels, cache.n_classes
        if args.result_name in cache.result_names:
            raise UsageError(f"{output} already has a result set {args.result_name!r}")
    plan = build_plan(args, output)
    if len(plan.variants) != 1:
        raise UsageError("--result-name on an existing cache adds one result set: give one --variants value")
    if plan.n_classes != n_classes:
        raise UsageError(f"the model has {plan.n_classes} classes but {output} has {n_classes}")
    where = {source: i for i, source in enumerate(plan.data.sources)}
    missing = [s for s in sources if s not in where]
    if missing:
        raise UsageError(f"{len(missing)} samples of {output} are not in {args.data} (e.g. {missing[0]})")
    order = np.array([where[s] for s in sources], dtype=np.int64)
    dataset = SampleDataset(plan.data, order, np.arange(len(order)), plan.transform, plan.crop)
    loader = sample_loader(dataset, plan.workers, batch_size=plan.batch_size)
    model = plan.model.to(plan.device).eval()
    tops, probs_out, trues = [], [], []
    variant = plan.variants[0]
    with torch.inference_mode():
        for batch in loader:
            if not batch["ok"].all():
                bad = batch["reasons"][int(np.flatnonzero(~batch["ok"])[0])]
                raise BlocksError(f"a sample of {output} no longer loads ({bad}); its result set would be incomplete")
            x = apply_variant(batch["images"].to(plan.device), variant, plan.mean, plan.std)
            top_index, top_prob, true_prob = predict(
                logits_of(model(x)), torch.as_tensor(labels[batch["positions"]]), plan.k)
            tops.append(top_index.cpu().numpy())
            probs_out.append(top_prob.cpu().numpy())
            trues.append(true_prob.cpu().numpy())
    attrs = {"transform": variant, "model": str(plan.config["model"]), "weights": str(plan.config["weights"])}
    if plan.config.get("checkpoint"):
        attrs["checkpoint"] = str(plan.config["checkpoint"])
    append_result_set(output, args.result_name, np.concatenate(tops), np.concatenate(probs_out),
                      np.concatenate(trues), attrs)
    return args.result_name
