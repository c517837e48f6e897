"""The extraction loop: batches in, part files out, one cache at the end.

Samples are processed in class-major order (so each batch touches few
classes and per-class sums stay small) in fixed batches.  Each batch becomes
one part file, written by a single writer thread behind a bounded queue, so
the GPU never waits on HDF5 and a SIGKILL costs at most the batches in flight.
Running the same command again resumes; ``--shard i/n`` takes every n-th part;
merging streams the parts into the final cache through :class:`CacheWriter`.
"""

from __future__ import annotations

import fcntl
import hashlib
import queue
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..cache import CacheWriter, HierarchyArrays
from ..cache.parts import (
    LayerPart,
    Part,
    finished_parts,
    parts_folder,
    read_manifest,
    read_part,
    read_part_index,
    write_manifest,
    write_part,
)
from ..errors import BlocksError, UsageError
from .datasets import DataSource
from .inference import logits_of, predict
from .loader import SampleDataset, collate
from .responses import LayerRecorder
from .variants import apply_variant

ProgressFn = Callable[[int, int], None]
MERGE_LOCK = "merge.lock"


@dataclass
class ExtractPlan:
    """Everything one extraction needs; built by the CLI from its options."""

    output: Path
    data: DataSource
    model: torch.nn.Module
    transform: Callable[[Any], torch.Tensor]
    crop: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    class_names: list[str]
    class_ids: list[str] | None
    hierarchy: HierarchyArrays
    layers: dict[str, int]  # layer name -> d
    output_shapes: dict[str, tuple[int, ...]]
    variants: list[str]
    result_names: dict[str, str]  # variant -> result-set name
    config: dict[str, Any]
    k: int = 5
    batch_size: int = 64
    workers: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    shard: tuple[int, int] = (0, 1)
    maps: bool = False
    resume_hint: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def run_order(labels: np.ndarray) -> np.ndarray:
    """Class-major order of the samples (stable within a class)."""
    return np.argsort(labels, kind="stable")


def manifest_of(plan: ExtractPlan, order: np.ndarray) -> dict[str, Any]:
    """What makes parts interchangeable: resuming with anything else is refused."""
    digest = hashlib.sha256("\n".join(plan.data.sources[i] for i in order).encode()).hexdigest()
    return {
        "config": plan.config,
        "samples": len(order),
        "sources_sha256": digest,
        "batch_size": plan.batch_size,
        "k": plan.k,
        "layers": [[name, d] for name, d in plan.layers.items()],  # lists: JSON objects lose order
        "output_shapes": {k: list(v) for k, v in plan.output_shapes.items()},
        "variants": [[v, plan.result_names[v]] for v in plan.variants],
        "maps": plan.maps,
        "class_names": plan.class_names,
        "class_ids": plan.class_ids,
        "hierarchy": {"names": plan.hierarchy.names, "parent": plan.hierarchy.parent.tolist(),
                      "class_index": plan.hierarchy.class_index.tolist(), "source": plan.hierarchy.source},
        "resume_hint": plan.resume_hint,
    }


def _part_positions(n: int, batch_size: int) -> list[np.ndarray]:
    return [np.arange(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def extract(plan: ExtractPlan, progress: ProgressFn | None = None) -> Path | None:
    """Run (or resume) the plan's shard; merge into the cache when every part is done.

    Returns the cache path once merged, or None when other shards still owe parts.
    """
    order = run_order(plan.data.labels)
    folder = parts_folder(plan.output)
    write_manifest(folder, manifest_of(plan, order))
    parts = _part_positions(len(order), plan.batch_size)
    index, count = plan.shard
    mine = [p for p in range(len(parts)) if p % count == index]
    done = finished_parts(folder)
    todo = [p for p in mine if p not in done]
    if progress:
        progress(sum(len(parts[p]) for p in mine if p in done), sum(len(parts[p]) for p in mine))
    if todo:
        _process(plan, order, parts, todo, folder, progress)
    if finished_parts(folder) >= set(range(len(parts))):
        return merge(plan.output, wait=False)
    return None


def _process(plan: ExtractPlan, order: np.ndarray, parts: list[np.ndarray], todo: list[int],
             folder: Path, progress: ProgressFn | None) -> None:
    dataset = SampleDataset(plan.data, order, np.arange(len(order)), plan.transform, plan.crop)
    on_cuda = plan.device.type == "cuda"
    loader = DataLoader(
        dataset,
        batch_sampler=[parts[p].tolist() for p in todo],
        num_workers=plan.workers,
        collate_fn=collate,
        pin_memory=on_cuda,
        persistent_workers=False,
    )
    model = plan.model.to(plan.device).eval()
    if on_cuda:
        model = model.to(memory_format=torch.channels_last)
    writer = _PartWriter(folder)
    try:
        with LayerRecorder(model, list(plan.layers), plan.layers) as recorder:
            for number, batch in zip(todo, loader):
                writer.put(_run_batch(plan, model, recorder, number, batch, on_cuda, order))
                if progress:
                    progress(len(batch["positions"]), 0)
    except torch.cuda.OutOfMemoryError:
        raise BlocksError(f"out of GPU memory at --batch-size {plan.batch_size}; try {max(1, plan.batch_size // 2)}") from None
    finally:
        writer.close()


def _run_batch(plan: ExtractPlan, model: torch.nn.Module, recorder: LayerRecorder, number: int,
               batch: dict[str, Any], on_cuda: bool, order: np.ndarray) -> Part:
    """Every variant's predictions and the original's responses for one batch."""
    x = batch["images"].to(plan.device, non_blocking=True)
    if on_cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    labels = batch["labels"].to(plan.device, non_blocking=True)
    ok = torch.as_tensor(batch["ok"], device=plan.device)
    results: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    layers: dict[str, LayerPart] = {}
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
        for v, variant in enumerate(plan.variants):
            recorder.enabled = v == 0  # responses of the original images only
            top_index, top_prob, true_prob = predict(
                logits_of(model(apply_variant(x, variant, plan.mean, plan.std))), labels, plan.k)
            results[plan.result_names[variant]] = (
                top_index.cpu().numpy(), top_prob.cpu().numpy(), true_prob.cpu().numpy())
            if v == 0:
                for name, pooled in recorder.pop().items():
                    layers[name] = _layer_part(pooled.float(), labels, ok, plan.n_classes, plan.maps)
    positions = batch["positions"]
    return Part(
        number=number,
        index=positions,
        label=batch["labels"].numpy(),
        source=[plan.data.sources[int(i)] for i in order[positions]],
        ok=batch["ok"],
        reason=batch["reasons"],
        thumbnail=batch["thumbnails"],
        results=results,
        layers=layers,
    )


def _layer_part(pooled: torch.Tensor, labels: torch.Tensor, ok: torch.Tensor, n_classes: int, maps: bool) -> LayerPart:
    """Per-sample collective responses and per-class sums (on the device) of one layer."""
    good = pooled[ok]
    rows, inverse = torch.unique(labels[ok], return_inverse=True)
    # One small matmul (classes-in-batch × samples) beats index_add_, which is
    # slow on the CPU; float32 within a batch, float64 across the run.
    one_hot = torch.zeros((len(rows), len(good)), dtype=good.dtype, device=good.device)
    one_hot[inverse, torch.arange(len(good), device=good.device)] = 1
    sums = (one_hot @ good.reshape(len(good), -1)).double().reshape((len(rows),) + tuple(pooled.shape[1:]))
    counts = torch.bincount(inverse, minlength=len(rows))
    return LayerPart(
        collective=pooled.sum(dim=(2, 3)).cpu().numpy().astype(np.float16),
        class_rows=rows.cpu().numpy(),
        class_sum=sums.cpu().numpy(),
        class_count=counts.cpu().numpy(),
        maps=pooled.cpu().numpy().astype(np.float16) if maps else None,
    )


class _PartWriter:
    """The one thread that makes h5py calls during extraction, behind a bounded queue."""

    def __init__(self, folder: Path, depth: int = 4) -> None:
        self.folder = folder
        self.queue: queue.Queue[Part | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="blocks-part-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (part := self.queue.get()) is not None:
            if self.error is None:
                try:
                    write_part(self.folder, part)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                    self.error = exc

    def put(self, part: Part) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(part)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def merge(output: Path, remove_parts: bool = True, wait: bool = True) -> Path | None:
    """Stream every part of ``output`` into the final cache, atomically.

    Samples that failed to load are left out and listed under ``skipped``.
    Equals a single-process run whatever the sharding, since parts are
    identical and read in order.  Shards finishing together race to merge:
    an exclusive lock lets one do it; with ``wait=False`` the others return
    None at once, with ``wait=True`` they wait and find the work done.
    """
    folder = parts_folder(output)
    try:
        lock = open(folder / MERGE_LOCK, "a")
    except FileNotFoundError:
        if output.exists():
            return output  # another process merged and cleaned up
        raise UsageError(f"{folder}: nothing to merge (no parts folder with a run.json)") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if not folder.exists():  # merged by the process that held the lock
            return output
        return _merge_locked(output, folder, remove_parts)


def _merge_locked(output: Path, folder: Path, remove_parts: bool) -> Path:
    manifest = read_manifest(folder)
    if manifest is None:
        raise UsageError(f"{folder}: nothing to merge (no parts folder with a run.json)")
    n_parts = -(-manifest["samples"] // manifest["batch_size"])
    missing = sorted(set(range(n_parts)) - finished_parts(folder))
    if missing:
        raise BlocksError(
            f"{folder}: {len(missing)} of {n_parts} parts are missing (e.g. part {missing[0]}: with --shard i/N, "
            f"shard {missing[0]} mod N writes it); finish every shard first, then merge again"
        )
    index = [read_part_index(folder, p) for p in range(n_parts)]
    n_ok = int(sum(i.ok.sum() for i in index))
    if n_ok == 0:
        raise BlocksError(f"{folder}: no sample could be read (e.g. {index[0].source[0]}: {index[0].reason[0]})")
    h = manifest["hierarchy"]
    n_classes = len(manifest["class_names"])
    with CacheWriter(output, manifest["config"], resume_hint=manifest.get("resume_hint", "")) as w:
        w.write_classes(manifest["class_names"], manifest["class_ids"])
        w.write_hierarchy(h["names"], np.asarray(h["parent"]), np.asarray(h["class_index"]), h["source"])
        labels = np.concatenate([i.label[i.ok] for i in index])
        sources = [s for i in index for s, good in zip(i.source, i.ok) if good]
        skipped = [(s, r) for i in index for s, r, good in zip(i.source, i.reason, i.ok) if not good]
        first = read_part(folder, 0)
        w.begin_samples(labels, sources, first.thumbnail.shape[1:])
        for _, name in manifest["variants"]:
            w.begin_result_set(name, manifest["k"], _variant_attrs(manifest, name))
        for name, d in manifest["layers"]:
            channels = first.layers[name].collective.shape[1]
            w.begin_layer(name, channels, d, manifest["output_shapes"][name], with_maps=manifest["maps"])
        sums: dict[str, np.ndarray | None] = {name: None for name, _ in manifest["layers"]}
        counts = np.zeros(n_classes, dtype=np.int64)
        start = 0
        for p in range(n_parts):
            part = read_part(folder, p)
            good = part.ok
            rows = int(good.sum())
            w.append_thumbnails(part.thumbnail[good])
            for name, (topk, prob, true) in part.results.items():
                w.write_result_rows(name, start, topk[good], prob[good], true[good])
            for name, layer in part.layers.items():
                w.write_layer_rows(name, start, layer.collective[good],
                                   layer.maps[good] if layer.maps is not None else None)
                if sums[name] is None:
                    sums[name] = np.zeros((n_classes,) + layer.class_sum.shape[1:], dtype=np.float64)
                np.add.at(sums[name], layer.class_rows, layer.class_sum)
            if part.layers:
                np.add.at(counts, next(iter(part.layers.values())).class_rows,
                          next(iter(part.layers.values())).class_count)
            start += rows
            w.set_progress(start, n_ok)
        for name, total in sums.items():
            assert total is not None
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(counts[:, None, None, None] > 0, total / np.maximum(counts, 1)[:, None, None, None], 0.0)
            w.write_class_mean(name, mean)
        if skipped:
            w.write_skipped([s for s, _ in skipped], [r for _, r in skipped])
    if remove_parts:
        shutil.rmtree(folder, ignore_errors=True)
    return output


def _variant_attrs(manifest: dict[str, Any], result_name: str) -> dict[str, Any]:
    variant = next((v for v, r in manifest["variants"] if r == result_name), result_name)
    config = manifest["config"]
    attrs = {"transform": variant, "model": str(config.get("model", "")), "weights": str(config.get("weights", ""))}
    if config.get("checkpoint"):
        attrs["checkpoint"] = str(config["checkpoint"])
    return attrs
