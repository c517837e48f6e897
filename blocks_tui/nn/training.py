"""Training the demo CNN, plainly or hierarchy-aware (paper §4.1.3, Table 1).

Why here, in ``nn/`` below both ``demo/`` and ``extract/``: the loop trains
on any labelled images (the demo's, CIFAR-100's, an ImageFolder's), the demo
itself trains through it (``demo/pipeline.py`` imports :func:`fit`) and so
does ``blocks-tui train`` (``extract/train_command.py``), so there is one
training loop in the code base, not two, and neither package imports the other.

The hierarchy-aware model is the demo CNN plus *auxiliary heads*: after
intermediate stages, a global-average-pool + linear classifier predicts the
sample's group at a coarse level of the class hierarchy, coarser at earlier
stages (:func:`plan_aux_heads`).  Its loss is the main cross-entropy plus
``weight`` × the cross-entropy of each auxiliary head.  The heads only shape
the features during training; :meth:`HierarchyAwareCNN.deployable` is the
plain CNN without them, and that is what is saved and evaluated, so both
models have exactly the same architecture and cost at inference time.

Same budget, same seed: both models start from the same backbone weights
(the backbone is built first under the seed), see the same batches in the
same order with the same flips, and use the same optimiser and schedule.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from torch import nn

from ..analysis.hierarchy import Tree
from ..analysis.metrics import topk_accuracy
from ..cache import HierarchyArrays
from ..cache.parts import write_file_atomically
from ..safe_text import printable
from ..cache.diskfull import one_line_when_full
from .demo_cnn import CHANNELS, LAYERS, MEAN, STD, DemoCNN, preprocess
from .inference import InferenceResult, run_inference
from .variants import apply_variant

AUX_WEIGHT = 0.3
"""Loss weight of each auxiliary head (the main head has weight 1).  GoogLeNet's
value for its auxiliary classifiers: large enough to shape the early stages,
small enough that the fine-class objective stays in charge."""

LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""``(model, inputs, labels) -> (loss, main logits)``."""


# -- progress --------------------------------------------------------------------


class TaskProgress:
    """A rich progress display on stderr, or nothing at all when ``enabled`` is False."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Progress | None = None
        if enabled:
            self.bar = Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )

    def __enter__(self) -> "TaskProgress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def task(self, description: str, total: int) -> TaskID | None:
        return self.bar.add_task(description, total=total, info="") if self.bar is not None else None

    def advance(self, task: TaskID | None, amount: int = 1, **fields: Any) -> None:
        if self.bar is not None and task is not None:
            self.bar.update(task, advance=amount, **fields)


# -- the loop --------------------------------------------------------------------


@contextmanager
def seeded(seed: int, device: torch.device = torch.device("cpu")) -> Iterator[None]:
    """Seed torch and insist on deterministic kernels, restoring both after.

    ``fork_rng`` keeps the caller's global random state untouched, so
    training inside a test does not perturb other tests.  On a GPU some
    kernels (max-pool backward) have no deterministic version: there it
    warns instead of failing, and runs are close but not bit-identical.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


@dataclass(frozen=True)
class TrainSettings:
    """The budget: epochs, batches and the optimiser's settings (the demo's defaults)."""

    epochs: int = 7
    batch_size: int = 128
    lr: float = 0.02
    weight_decay: float = 5e-4
    seed: int = 0
    hflip: bool = True


def cross_entropy_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The plain classifier's loss."""
    logits = model(x)
    return F.cross_entropy(logits, y), logits


def fit(
    build: Callable[[], nn.Module],
    loss_of: LossFn,
    x_all: torch.Tensor,
    y_all: torch.Tensor,
    settings: TrainSettings,
    device: torch.device = torch.device("cpu"),
    on_batch: Callable[[int, int, float, float], None] | None = None,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> nn.Module:
    """Build a model under ``settings.seed`` and train it on preprocessed ``x_all`` / ``y_all``.

    AdamW with a one-cycle schedule reaches a good accuracy in few epochs;
    random horizontal flips (``hflip``) are the only augmentation.  The
    shuffle and the flips come from their own generator seeded with
    ``settings.seed``, so two models trained with the same settings see the
    same batches.  ``on_batch(epoch, batch size, mean loss, accuracy so
    far)`` after every step; ``on_epoch(epoch, model)`` after every epoch
    (checkpoints, evaluation).  Returns the model in eval mode.
    """
    n = len(y_all)
    steps_per_epoch = math.ceil(n / settings.batch_size)
    x_all, y_all = x_all.to(device), y_all.to(device)
    with seeded(settings.seed, device):
        model = build().to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=settings.lr, total_steps=settings.epochs * steps_per_epoch, pct_start=0.2
        )
        shuffle = torch.Generator().manual_seed(settings.seed)
        for epoch in range(1, settings.epochs + 1):
            model.train()
            order = torch.randperm(n, generator=shuffle)
            seen, loss_sum, correct = 0, 0.0, 0
            for start in range(0, n, settings.batch_size):
                idx = order[start : start + settings.batch_size]
                xb, yb = x_all[idx.to(device)], y_all[idx.to(device)]
                if settings.hflip:
                    flip = torch.rand(len(idx), generator=shuffle) < 0.5
                    xb = torch.where(flip.to(device)[:, None, None, None], xb.flip(3), xb)
                loss, logits = loss_of(model, xb, yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                seen += len(idx)
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((logits.argmax(1) == yb).sum())
                if on_batch is not None:
                    on_batch(epoch, len(idx), loss_sum / seen, correct / seen)
            if on_epoch is not None:
                on_epoch(epoch, model)
    return model.eval()


def save_state_dict(model: nn.Module, path: Path) -> Path:
    """Write a state_dict atomically: a killed run leaves no torn file, a full disk no temp file and one line.

    Serialised in memory first: ``torch.save``'s own file writer reports a
    full disk as a RuntimeError naming no errno; a plain write says ENOSPC.
    """
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    with one_line_when_full(path.parent, lambda: f"could not save {printable(path.name)}; the checkpoints saved "
                            "before it and any earlier cache are untouched. Free some space and run again"):
        write_file_atomically(path, buffer.getbuffer())
    return path


def evaluate_images(
    model: DemoCNN,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    k: int = 5,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
    variant: str = "original",
    layers: tuple[str, ...] = (),
    d: int = 3,
    keep_maps: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InferenceResult:
    """Top-k predictions (and layer responses) of a demo CNN on uint8 ``(N, H, W, 3)`` images.

    The variant is applied to the normalised input by the same function
    ``blocks-tui extract`` uses for its variants.
    """
    images_t = torch.from_numpy(np.ascontiguousarray(images))
    labels_t = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    batches = [(images_t[i : i + batch_size], labels_t[i : i + batch_size]) for i in range(0, len(labels_t), batch_size)]

    def model_input(x: torch.Tensor) -> torch.Tensor:
        return apply_variant(preprocess(x), variant, MEAN, STD)

    return run_inference(
        model, batches, n_classes=model.head.out_features, layers=layers, d=d, k=k,
        device=device, preprocess=model_input, keep_maps=keep_maps, on_batch=on_batch,
    )


# -- the hierarchy-aware model ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class AuxHead:
    """One auxiliary classifier: after ``stage``, predict the depth-``depth`` group of the class."""

    stage: int
    depth: int
    group_of_class: np.ndarray  # (classes,) int64 in [0, n_groups)
    group_names: tuple[str, ...]
    weight: float

    @property
    def n_groups(self) -> int:
        return len(self.group_names)

    def describe(self) -> dict[str, Any]:
        return {"stage": f"stage{self.stage}", "depth": self.depth, "groups": self.n_groups, "weight": self.weight}


def plan_aux_heads(tree: Tree, n_stages: int, weight: float = AUX_WEIGHT, max_heads: int = 2) -> list[AuxHead]:
    """Which stage classifies which level: coarser levels at earlier stages.

    The levels are depths 1..L of the tree, L = the deepest level with an
    inner node, capped by ``max_heads`` and by the stages available (stage 2
    to the second-last; stage 1 is too shallow to classify anything).  The
    deepest level goes after the second-last stage and each coarser one a
    stage earlier: on the demo's four stages, the two top-level groups after
    stage 2 and the eight mid-level groups after stage 3; CIFAR-100's 20
    superclasses after stage 3.  A level is skipped when it has fewer than
    two groups.  Classes whose leaf is shallower than a level are their own
    group there.
    """
    inner = tree.class_index < 0
    deepest = int(tree.depth[inner].max()) if inner.any() else 0
    levels = min(deepest, max_heads, max(n_stages - 2, 0))
    heads: list[AuxHead] = []
    for depth in range(1, levels + 1):
        nodes, group = np.unique(tree.ancestor_at_depth(depth), return_inverse=True)
        if len(nodes) < 2:
            continue
        stage = n_stages - 1 - levels + depth
        heads.append(AuxHead(stage, depth, group.astype(np.int64), tuple(tree.names[v] for v in nodes), weight))
    return heads


class HierarchyAwareCNN(nn.Module):
    """A demo CNN with auxiliary group classifiers after intermediate stages (training only)."""

    def __init__(self, backbone: DemoCNN, heads: Sequence[AuxHead]) -> None:
        super().__init__()
        if not heads:
            raise ValueError("a hierarchy-aware model needs at least one auxiliary head")
        self.backbone = backbone
        self.aux_heads = nn.ModuleDict(
            {f"stage{h.stage}": nn.Linear(backbone.channels[h.stage - 1], h.n_groups) for h in heads}
        )
        self.heads = tuple(heads)
        self._targets = [torch.from_numpy(h.group_of_class) for h in heads]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inference: the main head only."""
        return self.backbone(x)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Main logits and each auxiliary head's group logits, from one pass."""
        stages = self.backbone.features(x)
        aux = [
            self.aux_heads[f"stage{h.stage}"](torch.flatten(F.adaptive_avg_pool2d(stages[h.stage - 1], 1), 1))
            for h in self.heads
        ]
        return self.backbone.classify(stages[-1]), aux

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Main cross-entropy + Σ weight × auxiliary cross-entropy on the classes' groups."""
        logits, aux = self.forward_with_aux(x)
        total = F.cross_entropy(logits, y)
        for head, out, target in zip(self.heads, aux, self._targets):
            total = total + head.weight * F.cross_entropy(out, target.to(y.device)[y])
        return total, logits

    def deployable(self) -> DemoCNN:
        """The CNN without the auxiliary heads: what is saved and evaluated."""
        return self.backbone


def hierarchy_aware_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    assert isinstance(model, HierarchyAwareCNN)
    return model.loss(x, y)


def deployable(model: nn.Module) -> DemoCNN:
    """The inference model: the backbone of a hierarchy-aware model, else the model itself."""
    if isinstance(model, HierarchyAwareCNN):
        return model.deployable()
    assert isinstance(model, DemoCNN)
    return model


# -- training both and comparing -------------------------------------------------


@dataclass(frozen=True)
class LabelledImages:
    """Training and evaluation images (uint8 ``(N, H, W, 3)``) with their classes and hierarchy."""

    train_images: np.ndarray
    train_labels: np.ndarray  # (N,) int64
    eval_images: np.ndarray
    eval_labels: np.ndarray
    eval_sources: list[str]
    eval_thumbnails: np.ndarray  # (N_eval, >= 48, >= 48, 3) uint8, for the cache
    class_names: list[str]
    class_ids: list[str] | None
    hierarchy: HierarchyArrays
    description: str  # e.g. "demo", "cifar100:/data/cifar"
    ground_truth: dict[str, Any] | None = None


@dataclass
class TrainedRun:
    """One model's training: its per-epoch evaluations and the saved inference model."""

    name: str
    model: nn.Module  # as trained (with auxiliary heads, for the hierarchy-aware one)
    epochs: list[InferenceResult] = field(default_factory=list)  # evaluation after each epoch
    top1_error: list[float] = field(default_factory=list)
    top5_error: list[float] = field(default_factory=list)
    saved: Path | None = None

    @property
    def final(self) -> InferenceResult:
        return self.epochs[-1]


MODEL_NAMES = ("baseline", "hierarchy-aware")
RESPONSE_CELLS = 3  # cells a side of each stage's stored responses, as the demo stores them


def train_pair(
    data: LabelledImages,
    settings: TrainSettings,
    device: torch.device,
    aux_weight: float = AUX_WEIGHT,
    model_dir: Path | None = None,
    progress: TaskProgress | None = None,
    on_epoch: Callable[[TrainedRun, int], None] | None = None,
    d: int = RESPONSE_CELLS,
) -> tuple[TrainedRun, TrainedRun]:
    """Train the baseline and the hierarchy-aware CNN with the same budget and seed.

    After every epoch both are evaluated on the evaluation images (top-1 and
    top-5 error, and the predictions for the cache); the last evaluation
    also records every stage's responses (``LAYERS``, ``d`` cells a side),
    so the cache feeds the response map and the probes.  ``on_epoch(run,
    epoch)`` reports it.  With ``model_dir`` each final inference model is
    saved there as ``NAME.pt`` (a state_dict without auxiliary heads).
    """
    tree = Tree.from_hierarchy(data.hierarchy)
    n_classes = len(data.class_names)
    heads = plan_aux_heads(tree, len(CHANNELS), aux_weight)
    if not heads:
        raise ValueError("the hierarchy has no groups to train auxiliary heads on (every class hangs from the root)")
    progress = progress or TaskProgress(False)
    x_all = preprocess(torch.from_numpy(np.ascontiguousarray(data.train_images)))
    y_all = torch.from_numpy(np.asarray(data.train_labels, dtype=np.int64))
    builders: dict[str, tuple[Callable[[], nn.Module], LossFn]] = {
        "baseline": (lambda: DemoCNN(n_classes), cross_entropy_loss),
        "hierarchy-aware": (lambda: HierarchyAwareCNN(DemoCNN(n_classes), heads), hierarchy_aware_loss),
    }
    runs = []
    for name in MODEL_NAMES:
        build, loss_of = builders[name]
        run = TrainedRun(name, nn.Identity())
        steps = settings.epochs * math.ceil(len(y_all) / settings.batch_size)
        task = progress.task(f"{name} 1/{settings.epochs}", steps)

        def batch_done(epoch: int, size: int, loss: float, acc: float, task: TaskID | None = task,
                       name: str = name) -> None:
            progress.advance(task, description=f"{name} {epoch}/{settings.epochs}",
                             info=f"loss {loss:.3f}  acc {acc:6.1%}")

        def epoch_done(epoch: int, model: nn.Module, run: TrainedRun = run) -> None:
            layers = LAYERS if epoch == settings.epochs else ()
            result = evaluate_images(deployable(model), data.eval_images, data.eval_labels, device=device,
                                     layers=layers, d=d)
            run.epochs.append(result)
            run.top1_error.append(1.0 - topk_accuracy(data.eval_labels, result.topk_index, 1))
            run.top5_error.append(1.0 - topk_accuracy(data.eval_labels, result.topk_index, 5))
            if on_epoch is not None:
                on_epoch(run, epoch)

        run.model = fit(build, loss_of, x_all, y_all, settings, device, batch_done, epoch_done)
        if model_dir is not None:
            model_dir.mkdir(parents=True, exist_ok=True)
            run.saved = save_state_dict(deployable(run.model), model_dir / f"{name}.pt")
        runs.append(run)
    return runs[0], runs[1]


def epochs_to_reach(errors: Sequence[float], target: float) -> int | None:
    """The first epoch (1-based) whose error is at or below ``target``; None if never."""
    for epoch, error in enumerate(errors, start=1):
        if error <= target + 1e-12:
            return epoch
    return None
