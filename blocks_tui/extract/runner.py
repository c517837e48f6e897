"""The extraction loop: batches in, part files out, one cache at the end.

Samples are processed in class-major order (so each batch touches few
classes and per-class sums stay small) in fixed batches.  Each batch becomes
one part file, written by a single writer thread behind a bounded queue, so
the GPU never waits on HDF5 and a SIGKILL costs at most the batches in flight.
Running the same command again resumes; ``--shard i/n`` takes every n-th part;
merging streams the parts into the final cache through :class:`CacheWriter`.

Output files are opened only after the data-loader workers have started, so
no worker ever shares a lock on them (see ``loader.py``).  A full disk stops
the run with one line; the finished parts stay, and the same command resumes.
"""

from __future__ import annotations

import fcntl
import queue
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager

import numpy as np
import torch

from ..cache import CacheWriter, HierarchyArrays
from ..cache.diskfull import is_disk_full, one_line_when_full
from ..cache.parts import (
    LayerPart,
    Part,
    finished_parts,
    parts_folder,
    read_manifest,
    read_part,
    read_part_index,
    remove_dead_temps,
    write_part,
)
from ..cache.writer import partial_path, silence_hdf5_diagnostics
from ..errors import BlocksError, UsageError
from ..nn.inference import logits_of, predict
from ..nn.responses import LayerRecorder
from ..nn.variants import apply_variant
from ..safe_text import printable
from .datasets import DataSource
from .loader import SampleDataset, sample_loader
from .locks import RunLock, is_alive, is_hdf5_lock_error, locked_error, refuse_if_locked
from .resume import prepare_parts_folder

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
    overwrite: bool = False  # discard the parts of an earlier run (see resume.py)
    resume_hint: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def run_order(labels: np.ndarray) -> np.ndarray:
    """Class-major order of the samples (stable within a class)."""
    return np.argsort(labels, kind="stable")


def manifest_of(plan: ExtractPlan, order: np.ndarray) -> dict[str, Any]:
    """What makes parts interchangeable: resuming with anything else is refused.

    ``checkpoint_sha256`` and ``data_sha256`` (sources, labels and content
    stamps in run order) catch what options cannot: a checkpoint overwritten
    in place, images edited, added or relabelled between the runs.
    """
    return {
        "config": plan.config,
        "samples": len(order),
        "checkpoint_sha256": plan.config.get("checkpoint_sha256"),
        "data_sha256": plan.data.digest(order),
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
    manifest = manifest_of(plan, order)
    index, count = plan.shard
    with _disk_full_is_one_line(plan.output, discard_partial=count == 1):
        prepare_parts_folder(folder, manifest, plan.overwrite, count)
        with RunLock(folder, index):
            refuse_if_locked(partial_path(plan.output))  # fail in a second, not after the run, at the merge
            if count == 1:  # shards may run on other hosts, whose pids mean nothing here
                remove_dead_temps(folder, is_alive)
            return _extract_shard(plan, order, folder, manifest, progress)


def _extract_shard(plan: ExtractPlan, order: np.ndarray, folder: Path, manifest: dict[str, Any],
                   progress: ProgressFn | None) -> Path | None:
    parts = _part_positions(len(order), plan.batch_size)
    index, count = plan.shard
    mine = [p for p in range(len(parts)) if p % count == index]
    done = finished_parts(folder)
    todo = [p for p in mine if p not in done]
    if progress:
        progress(sum(len(parts[p]) for p in mine if p in done), sum(len(parts[p]) for p in mine))
    assembler = None
    if todo:
        fresh = count == 1 and len(todo) == len(parts)  # a fresh single-process run: build the cache as parts finish
        make = (lambda: _Assembler(plan.output, manifest, capacity=len(order), resizable=True)) if fresh else None
        assembler = _process(plan, order, parts, todo, folder, progress, make)
    if assembler is not None:
        assembler.finish()
        shutil.rmtree(folder, ignore_errors=True)
        return plan.output
    if finished_parts(folder) >= set(range(len(parts))):
        return merge(plan.output, wait=False)
    return None


def _disk_full_is_one_line(output: Path, discard_partial: bool = False) -> ContextManager[None]:
    """Turn a write that found no space, in whatever shape h5py or Python raised it, into one line.

    The finished parts are intact (each is written whole or not at all).  With
    ``discard_partial`` (a single-process run, so no other shard is merging
    into it) the unfinished cache is deleted too: a resume rebuilds it from
    the parts, and its space is what the rerun needs.
    """
    folder = parts_folder(output)

    def what_is_safe() -> str:
        return (f"stopped while writing {printable(output.name)}; the {len(finished_parts(folder))} finished parts "
                f"in {printable(folder.name)} are kept, nothing else is lost. Free some space and run the same "
                "command again to resume")

    return one_line_when_full(output.parent if str(output.parent) else Path("."), what_is_safe,
                              (lambda: partial_path(output).unlink(missing_ok=True)) if discard_partial else None)


def _process(plan: ExtractPlan, order: np.ndarray, parts: list[np.ndarray], todo: list[int], folder: Path,
             progress: ProgressFn | None, make_assembler: Callable[[], _Assembler] | None) -> _Assembler | None:
    """Run the batches; returns the assembler if it kept up with every part, else None (merge instead)."""
    dataset = SampleDataset(plan.data, order, np.arange(len(order)), plan.transform, plan.crop)
    on_cuda = plan.device.type == "cuda"
    loader = sample_loader(dataset, plan.workers, pin_memory=on_cuda, batch_sampler=[parts[p].tolist() for p in todo])
    batches = iter(loader)  # forks the workers now, before any output file is open: they inherit none
    model = plan.model.to(plan.device).eval()
    if on_cuda:
        model = model.to(memory_format=torch.channels_last)
    try:
        writer = _PartWriter(folder, _optional(make_assembler))
        try:
            with LayerRecorder(model, list(plan.layers), plan.layers) as recorder:
                for number, batch in zip(todo, batches):
                    writer.put(_run_batch(plan, model, recorder, number, batch, on_cuda, order))
                    if progress:
                        progress(len(batch["positions"]), 0)
        except BaseException as exc:
            writer.stop(delete=is_disk_full(exc))  # the parts written so far stay
            if isinstance(exc, torch.cuda.OutOfMemoryError):
                raise BlocksError(f"out of GPU memory at --batch-size {plan.batch_size}; "
                                  f"try {max(1, plan.batch_size // 2)}") from None
            raise
        return writer.close()
    finally:
        del batches  # shuts the workers down


def _optional(make_assembler: Callable[[], _Assembler] | None) -> _Assembler | None:
    """The streaming assembler, if there is room to start one; without it the parts are merged at the end."""
    if make_assembler is None:
        return None
    try:
        return make_assembler()
    except OSError as exc:
        if is_disk_full(exc):
            return None
        raise


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
    """Per-sample collective responses and per-class sums (on the device) of one layer.

    A batch whose images all failed to load has no good rows: it contributes
    no sums, and its samples are skipped and listed like any other bad file.
    """
    good = pooled[ok]
    rows, inverse = torch.unique(labels[ok], return_inverse=True)
    cells = tuple(pooled.shape[1:])
    # One small matmul (classes-in-batch × samples) beats index_add_, which is
    # slow on the CPU; float32 within a batch, float64 across the run.
    one_hot = torch.zeros((len(rows), len(good)), dtype=good.dtype, device=good.device)
    one_hot[inverse, torch.arange(len(good), device=good.device)] = 1
    sums = (one_hot @ good.reshape(len(good), int(np.prod(cells)))).double().reshape((len(rows),) + cells)
    counts = torch.bincount(inverse, minlength=len(rows))
    return LayerPart(
        collective=pooled.sum(dim=(2, 3)).cpu().numpy().astype(np.float16),
        class_rows=rows.cpu().numpy(),
        class_sum=sums.cpu().numpy(),
        class_count=counts.cpu().numpy(),
        maps=pooled.cpu().numpy().astype(np.float16) if maps else None,
    )


class _PartWriter:
    """The one thread that makes h5py calls during extraction, behind a bounded queue.

    Each part is written durably first; then, on a fresh single-process run,
    handed to the assembler that grows the final cache.  If assembling fails
    the parts are still all there, and the run falls back to a merge.  A
    failed part write (a full disk) is re-raised in the main thread.
    """

    def __init__(self, folder: Path, assembler: _Assembler | None = None, depth: int = 4) -> None:
        self.folder = folder
        self.assembler = assembler
        self.queue: queue.Queue[Part | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="blocks-part-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        silence_hdf5_diagnostics()
        while (part := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                write_part(self.folder, part)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                self.error = exc
                continue
            if self.assembler is not None:
                try:
                    self.assembler.add(part)
                except Exception as exc:  # noqa: BLE001 - the parts are durable: merge them instead
                    self.assembler.abandon(delete=is_disk_full(exc))  # a full disk wants its space back
                    self.assembler = None

    def put(self, part: Part) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(part)

    def _drain(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def close(self) -> _Assembler | None:
        """Wait for the queue to drain; returns the assembler if it kept up."""
        self._drain()
        if self.error is not None:
            self.stop(delete=is_disk_full(self.error))
            raise self.error
        return self.assembler

    def stop(self, delete: bool = False) -> None:
        """After a failure: finish what is queued; the unfinished cache stays marked incomplete,
        or with ``delete`` (a full disk) goes, which gives HDF5 the room to close it cleanly."""
        if self.thread.is_alive():
            self._drain()
        if self.assembler is not None:
            self.assembler.abandon(delete=delete)
            self.assembler = None


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
        raise UsageError(f"{printable(folder)}: nothing to merge (no parts folder with a run.json)") from None
    with lock, _disk_full_is_one_line(output):
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
    n_ok = sum(int(read_part_index(folder, p).ok.sum()) for p in range(n_parts))
    assembler = _Assembler(output, manifest, capacity=n_ok)
    try:
        for p in range(n_parts):
            assembler.add(read_part(folder, p))
    except BaseException as exc:
        assembler.abandon(delete=is_disk_full(exc))
        raise
    assembler.finish()
    if remove_parts:
        shutil.rmtree(folder, ignore_errors=True)
    return output


class _Assembler:
    """Builds the final cache from parts taken in order.

    The merge feeds it every part after the run; a fresh single-process run
    feeds it each part as the writer thread finishes it, so the final cache
    grows alongside the extraction instead of after it.  Either way the same
    code writes the same rows, so both paths give the same cache.
    """

    def __init__(self, output: Path, manifest: dict[str, Any], capacity: int, resizable: bool = False) -> None:
        self.manifest = manifest
        self.capacity = capacity
        self.resizable = resizable
        try:
            self.writer = CacheWriter(output, manifest["config"], resume_hint=manifest.get("resume_hint", ""))
        except OSError as exc:
            if is_hdf5_lock_error(exc):  # HDF5 says "errno = 11" and names no file; say which, and who
                raise locked_error(partial_path(output)) from None
            raise
        h = manifest["hierarchy"]
        self.writer.write_classes(manifest["class_names"], manifest["class_ids"])
        self.writer.write_hierarchy(h["names"], np.asarray(h["parent"]), np.asarray(h["class_index"]), h["source"])
        self.n_classes = len(manifest["class_names"])
        self.sums: dict[str, np.ndarray] = {}
        self.counts = np.zeros(self.n_classes, dtype=np.int64)
        self.skipped: list[tuple[str, str]] = []
        self.rows = 0
        self.begun = False

    def _begin(self, part: Part) -> None:
        w, m = self.writer, self.manifest
        w.begin_samples(self.capacity, part.thumbnail.shape[1:], resizable=self.resizable)
        for _, name in m["variants"]:
            w.begin_result_set(name, m["k"], _variant_attrs(m, name))
        for name, d in m["layers"]:
            layer = part.layers[name]
            w.begin_layer(name, layer.collective.shape[1], d, m["output_shapes"][name], with_maps=m["maps"])
            self.sums[name] = np.zeros((self.n_classes,) + layer.class_sum.shape[1:], dtype=np.float64)
        self.begun = True

    def add(self, part: Part) -> None:
        """Append a part's readable samples and fold in its per-class sums."""
        if not self.begun:
            self._begin(part)
        w, good, start = self.writer, part.ok, self.rows
        self.skipped.extend((s, r) for s, r, ok in zip(part.source, part.reason, good) if not ok)
        w.append_samples(part.label[good], [s for s, ok in zip(part.source, good) if ok], part.thumbnail[good])
        for name, (topk, prob, true) in part.results.items():
            w.write_result_rows(name, start, topk[good], prob[good], true[good])
        for name, layer in part.layers.items():
            w.write_layer_rows(name, start, layer.collective[good], layer.maps[good] if layer.maps is not None else None)
            np.add.at(self.sums[name], layer.class_rows, layer.class_sum)
        if part.layers:
            first = next(iter(part.layers.values()))
            np.add.at(self.counts, first.class_rows, first.class_count)
        self.rows += int(good.sum())
        w.set_progress(self.rows, self.manifest["samples"])

    def finish(self) -> Path:
        """Class means, skipped inputs, final size; then the atomic rename (or, on failure, abandon)."""
        try:
            return self._finish()
        except BaseException as exc:
            self.abandon(delete=is_disk_full(exc))
            raise

    def _finish(self) -> Path:
        w = self.writer
        if self.rows == 0:
            example = f" (e.g. {printable(self.skipped[0][0])}: {printable(self.skipped[0][1])})" if self.skipped else ""
            raise BlocksError(f"no sample could be read{example}")
        if self.resizable:
            w.truncate_samples(self.rows)
        for name, total in self.sums.items():
            scale = np.maximum(self.counts, 1).astype(np.float64)[:, None, None, None]
            w.write_class_mean(name, np.where(self.counts[:, None, None, None] > 0, total / scale, 0.0))
        if self.skipped:
            w.write_skipped([s for s, _ in self.skipped], [r for _, r in self.skipped])
        return w.finish()

    def abandon(self, delete: bool = False) -> None:
        """Stop; the unfinished cache stays marked incomplete, or with ``delete`` goes (to free a full disk)."""
        self.writer.abandon(delete=delete)


def _variant_attrs(manifest: dict[str, Any], result_name: str) -> dict[str, Any]:
    variant = next((v for v, r in manifest["variants"] if r == result_name), result_name)
    config = manifest["config"]
    attrs = {"transform": variant, "model": str(config.get("model", "")), "weights": str(config.get("weights", ""))}
    if config.get("checkpoint"):
        attrs["checkpoint"] = str(config["checkpoint"])
    return attrs
