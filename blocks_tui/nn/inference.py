"""Run a classifier over labelled batches: top-k predictions and responses.

Shared by the demo and by ``blocks-tui extract``.  Everything is streamed per
batch: predictions are small and concatenated, but layer responses are
reduced on the fly — per-class means through :class:`ClassMeanAccumulator`
(running sums and counts) and per-sample *collective* responses (one number
per channel) — so 50k ImageNet images never need their pooled maps in memory
at once.  Keeping per-sample maps is opt-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .responses import LayerRecorder, Layout

Preprocess = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Predictions and pooled responses of one batch (numpy, on the CPU)."""

    labels: np.ndarray               # (n,) int64; -1 = unlabelled
    topk_index: np.ndarray           # (n, k) int64, most probable first
    topk_prob: np.ndarray            # (n, k) float32
    true_prob: np.ndarray            # (n,) float32; NaN where unlabelled
    responses: dict[str, np.ndarray]  # layer -> (n, C, d, d) float32
    output_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # per sample, unpooled


class ClassMeanAccumulator:
    """Per-class mean of ``(C, d, d)`` responses, accumulated batch by batch.

    Within a batch the per-class sums are one small matmul (classes in the
    batch x samples) in float32 — ``index_add_`` is several times slower on
    the CPU — and across batches they add up in float64, so averaging tens
    of thousands of samples loses nothing.  Samples with a negative label
    (unlabelled) are skipped.
    Classes that received no sample have a mean of zero — check
    :attr:`counts` to tell them apart.
    """

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes
        self.counts = np.zeros(n_classes, dtype=np.int64)
        self._sums: torch.Tensor | None = None

    def update(self, responses: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> None:
        """Add a batch: ``responses`` ``(n, C, d, d)``, ``labels`` ``(n,)``."""
        resp = torch.as_tensor(responses).to("cpu", torch.float32)
        lab = torch.as_tensor(labels).to("cpu", torch.int64)
        keep = lab >= 0
        if not bool(keep.all()):
            resp, lab = resp[keep], lab[keep]
        if bool((lab >= self.n_classes).any()):
            raise ValueError(f"label {int(lab.max())} out of range for {self.n_classes} classes")
        if self._sums is None:
            self._sums = torch.zeros((self.n_classes, *resp.shape[1:]), dtype=torch.float64)
        if len(lab) == 0:
            return
        rows, inverse = torch.unique(lab, return_inverse=True)
        one_hot = torch.zeros((len(rows), len(lab)), dtype=torch.float32)
        one_hot[inverse, torch.arange(len(lab))] = 1
        sums = one_hot @ resp.reshape(len(lab), -1)
        self._sums[rows] += sums.double().reshape((len(rows), *resp.shape[1:]))
        self.counts += np.bincount(lab.numpy(), minlength=self.n_classes)

    def mean(self) -> np.ndarray:
        """float32 ``(n_classes, C, d, d)``."""
        if self._sums is None:
            raise ValueError("no responses were accumulated")
        denom = torch.as_tensor(np.maximum(self.counts, 1), dtype=torch.float64)
        shape = (-1,) + (1,) * (self._sums.dim() - 1)
        return (self._sums / denom.view(shape)).to(torch.float32).numpy()


def collective(responses: np.ndarray) -> np.ndarray:
    """Per-sample collective response: the sum over the ``d x d`` cells.

    float16 halves the size of the largest per-sample array in the cache;
    three significant digits are plenty to rank samples by how strongly a
    channel fires.
    """
    return responses.sum(axis=(2, 3), dtype=np.float32).astype(np.float16)


def iter_inference(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    layers: Sequence[str] = (),
    d: int | Mapping[str, int] = 3,
    k: int = 5,
    device: str | torch.device | None = None,
    preprocess: Preprocess | None = None,
    layouts: Mapping[str, Layout] | None = None,
) -> Iterator[BatchResult]:
    """Yield a :class:`BatchResult` per ``(images, labels)`` batch.

    ``preprocess`` maps the batch's images to the model input on ``device``
    (default: the device of the model's first parameter).  The model is put in
    eval mode for the run and restored afterwards; gradients are never built
    (``torch.inference_mode``).
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    try:
        with LayerRecorder(model, layers, d=d, layouts=layouts) as recorder, torch.inference_mode():
            for images, labels in batches:
                x = images.to(device)
                if preprocess is not None:
                    x = preprocess(x)
                logits = logits_of(model(x))
                pooled = recorder.pop() if layers else {}
                yield _batch_result(logits, torch.as_tensor(labels), pooled, k, dict(recorder.output_shapes))
    finally:
        model.train(was_training)


def logits_of(output: object) -> torch.Tensor:
    """The logits of models that return tuples or named tuples (googlenet, inception)."""
    if isinstance(output, torch.Tensor):
        return output
    if hasattr(output, "logits"):
        return output.logits  # type: ignore[no-any-return]
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"the model returned {type(output).__name__}, not logits")


def predict(logits: torch.Tensor, labels: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Top-k classes, their probabilities, and the stored label's probability, on the logits' device.

    With fewer than ``k`` classes the top-k is padded with class -1 at
    probability 0 (the cache wants k >= 5 columns).  Labels outside
    ``[0, classes)`` (unlabelled: -1) get a true-class probability of NaN.
    """
    probs = torch.softmax(logits.float(), dim=1)
    top_prob, top_index = probs.topk(min(k, probs.shape[1]), dim=1)
    if top_index.shape[1] < k:
        pad = k - top_index.shape[1]
        top_index = torch.cat([top_index, top_index.new_full((len(top_index), pad), -1)], dim=1)
        top_prob = torch.cat([top_prob, top_prob.new_zeros((len(top_prob), pad))], dim=1)
    labels = labels.to(probs.device, torch.int64)
    valid = (labels >= 0) & (labels < probs.shape[1])
    true_prob = probs.gather(1, labels.clamp(0, probs.shape[1] - 1)[:, None])[:, 0]
    true_prob = torch.where(valid, true_prob, torch.full_like(true_prob, float("nan")))
    return top_index, top_prob, true_prob


def _batch_result(
    logits: torch.Tensor,
    labels: torch.Tensor,
    pooled: dict[str, torch.Tensor],
    k: int,
    output_shapes: dict[str, tuple[int, ...]],
) -> BatchResult:
    top_i, top_p, true = predict(logits, labels, k)
    return BatchResult(
        labels=labels.to("cpu", torch.int64).numpy(),
        topk_index=top_i.cpu().numpy().astype(np.int64),
        topk_prob=top_p.cpu().numpy(),
        true_prob=true.cpu().numpy(),
        responses={name: t.cpu().numpy() for name, t in pooled.items()},
        output_shapes=output_shapes,
    )


@dataclass(eq=False)
class InferenceResult:
    """Everything a result set and its layer responses need for the cache."""

    labels: np.ndarray
    topk_index: np.ndarray
    topk_prob: np.ndarray
    true_prob: np.ndarray
    class_mean: dict[str, np.ndarray] = field(default_factory=dict)   # (classes, C, d, d) float32
    collective: dict[str, np.ndarray] = field(default_factory=dict)   # (N, C) float16
    maps: dict[str, np.ndarray] | None = None                        # (N, C, d, d) float32
    output_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    class_counts: np.ndarray | None = None


def run_inference(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    n_classes: int,
    layers: Sequence[str] = (),
    d: int | Mapping[str, int] = 3,
    k: int = 5,
    device: str | torch.device | None = None,
    preprocess: Preprocess | None = None,
    layouts: Mapping[str, Layout] | None = None,
    keep_maps: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InferenceResult:
    """Run :func:`iter_inference` to the end and reduce what it yields.

    Per-class means use the batch labels (samples labelled -1 are left out);
    ``keep_maps`` additionally keeps every sample's pooled maps.  ``on_batch``
    is called with each batch's size (progress bars).
    """
    accumulators = {name: ClassMeanAccumulator(n_classes) for name in layers}
    parts: list[BatchResult] = []
    coll: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    maps: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    output_shapes: dict[str, tuple[int, ...]] = {}
    for part in iter_inference(model, batches, layers, d, k, device, preprocess, layouts):
        output_shapes = part.output_shapes
        for name, resp in part.responses.items():
            accumulators[name].update(resp, part.labels)
            coll[name].append(collective(resp))
            if keep_maps:
                maps[name].append(resp)
        parts.append(BatchResult(part.labels, part.topk_index, part.topk_prob, part.true_prob, {}))
        if on_batch is not None:
            on_batch(len(part.labels))
    if not parts:
        raise ValueError("no batches to run")
    return InferenceResult(
        labels=np.concatenate([p.labels for p in parts]),
        topk_index=np.concatenate([p.topk_index for p in parts]),
        topk_prob=np.concatenate([p.topk_prob for p in parts]),
        true_prob=np.concatenate([p.true_prob for p in parts]),
        class_mean={n: a.mean() for n, a in accumulators.items()},
        collective={n: np.concatenate(v) for n, v in coll.items()},
        maps={n: np.concatenate(v) for n, v in maps.items()} if keep_maps else None,
        output_shapes=output_shapes,
        class_counts=next(iter(accumulators.values())).counts.copy() if layers else None,
    )
