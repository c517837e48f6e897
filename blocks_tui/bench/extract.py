"""``blocks-tui bench extract``: extraction throughput against a plain inference loop.

Both passes use the same model, DataLoader and device in one process: first
forward + top-k only (no hooks, no writes), then the full extraction (hooks,
pooling, per-class sums, every variant, part files, merge).  The ratio says
what recording everything costs.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..nn.inference import logits_of
from ..extract.loader import SampleDataset, sample_loader
from ..extract.runner import ExtractPlan, extract, run_order


@dataclass(frozen=True)
class ExtractBenchResult:
    samples: int
    device: str
    plain_seconds: float
    extract_seconds: float

    @property
    def plain_rate(self) -> float:
        return self.samples / self.plain_seconds

    @property
    def extract_rate(self) -> float:
        return self.samples / self.extract_seconds

    @property
    def ratio(self) -> float:
        return self.extract_rate / self.plain_rate


def plain_loop(plan: ExtractPlan) -> float:
    """Seconds for forward + top-k over every sample, with the plan's loader and device."""
    order = run_order(plan.data.labels)
    dataset = SampleDataset(plan.data, order, torch.arange(len(order)).numpy(), plan.transform, plan.crop)
    on_cuda = plan.device.type == "cuda"
    loader = sample_loader(dataset, plan.workers, pin_memory=on_cuda, batch_size=plan.batch_size)
    model = plan.model.to(plan.device).eval()
    if on_cuda:
        model = model.to(memory_format=torch.channels_last)
    started = time.perf_counter()
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
        for batch in loader:
            x = batch["images"].to(plan.device, non_blocking=True)
            if on_cuda:
                x = x.contiguous(memory_format=torch.channels_last)
            for _ in plan.variants:
                logits_of(model(x)).float().softmax(1).topk(min(plan.k, plan.n_classes), dim=1)[1].cpu()
    if on_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - started


def bench_extract(plan: ExtractPlan) -> ExtractBenchResult:
    """Time the plain loop, then the full extraction into a temporary folder."""
    plain_loop(replace(plan))  # warm-up: worker start, caches, cudnn autotune
    plain = plain_loop(plan)
    with tempfile.TemporaryDirectory(prefix="blocks-bench-") as tmp:
        started = time.perf_counter()
        extract(replace(plan, output=Path(tmp) / "bench.h5", shard=(0, 1)))
        if plan.device.type == "cuda":
            torch.cuda.synchronize()
        full = time.perf_counter() - started
    return ExtractBenchResult(len(plan.data), str(plan.device), plain, full)
