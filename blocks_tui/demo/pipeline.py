"""Build the demo cache: generate the data, train the CNN, evaluate, write.

Everything runs on the CPU from a fixed seed, so the demo cache is the same
on every machine with the same library versions, and the test suite can
assert what it shows.  The steps, and why each result set exists:

* ``original`` — the final model on the evaluation images: the confusion
  matrix with its nested blocks, plus layer responses (per-class means and
  per-sample collective responses at every stage);
* ``epoch-1`` .. ``epoch-(N-1)`` — every earlier checkpoint on the same
  images: blocks form before the model learns the fine distinctions (the
  paper's Fig. 5), and ``blocks-tui dynamics`` reads when each group settles
  (the final epoch N is ``original``, whose ``epoch`` attribute says N);
* ``grayscale`` — the colour group's block dissolves into ``pebble``;
* ``rot90`` — the orientation group's block dissolves.

Samples in the cache are the evaluation split only; its thumbnails are the
48 px images themselves.  The training loop itself is
:func:`blocks_tui.nn.training.fit`, shared with ``blocks-tui train``; the
images come from :mod:`blocks_tui.synthetic.demo_data`, which ``extract
--data demo`` reads too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..cache import CacheWriter
from ..cache.diskfull import one_line_when_full
from ..cache.result_names import epoch_name
from ..cache.writer import partial_path
from ..nn.demo_cnn import CHANNELS, INPUT_SIZE, LAYERS, MEAN, STD, DemoCNN, preprocess
from ..nn.inference import InferenceResult
from ..nn.training import (
    TaskProgress,
    TrainSettings,
    cross_entropy_loss,
    evaluate_images,
    fit,
    save_state_dict,
)
from ..safe_text import printable
from ..synthetic.demo_data import DemoSplits, make_eval_split, make_train_split
from ..synthetic.generator import SIZE, DemoSpec, Split, default_spec, ground_truth

VARIANTS = ("original", "grayscale", "rot90")
"""Transforms the final model is evaluated under (names as in ``extract``)."""


@dataclass(frozen=True)
class DemoConfig:
    """Size and training settings of the demo.

    The default takes about 30 s on two idle CPU cores (generating 17.5k
    images ~4 s, training ~21 s, evaluating ~2 s, the rest imports and
    writing); :meth:`fast` about 20 s and still shows every planted property.
    Torch runs at its default thread count; other CPU-heavy processes on the
    machine slow training down far more than proportionally.
    """

    n_train_per_class: int = DemoSplits.n_train_per_class
    n_eval_per_class: int = DemoSplits.n_eval_per_class
    epochs: int = 7
    batch_size: int = 128
    lr: float = 0.02
    weight_decay: float = 5e-4
    seed: int = DemoSplits.seed
    d: int = 3
    layers: tuple[str, ...] = LAYERS
    k: int = 5
    label_noise: float = DemoSplits.label_noise
    keep_maps: bool = False
    eval_batch_size: int = 512
    channels: tuple[int, ...] = CHANNELS

    def __post_init__(self) -> None:
        if self.epochs < 3:
            raise ValueError("epochs must be at least 3: epoch-1 and epoch-2 (at least) are result sets of their own")
        if min(self.n_train_per_class, self.n_eval_per_class, self.batch_size, self.d) < 1:
            raise ValueError("sample counts, batch size and d must be positive")
        if self.k < 5:
            raise ValueError("k must be at least 5")
        stages = {f"stage{i}" for i in range(1, len(self.channels) + 1)}
        if not self.layers or not set(self.layers) <= stages:
            raise ValueError(f"layers must be stages of the CNN ({', '.join(sorted(stages))}), got {self.layers}")

    @classmethod
    def fast(cls) -> "DemoConfig":
        """The test suite's configuration: fewer samples and epochs."""
        return cls(n_train_per_class=250, n_eval_per_class=40, epochs=6)

    def to_dict(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}

    def train_settings(self) -> TrainSettings:
        """The training budget, for :func:`~blocks_tui.nn.training.fit`."""
        return TrainSettings(self.epochs, self.batch_size, self.lr, self.weight_decay, self.seed)


# -- training ------------------------------------------------------------------


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch}.pt"


def train(
    spec: DemoSpec,
    split: Split,
    config: DemoConfig,
    checkpoint_dir: Path,
    progress: TaskProgress | None = None,
) -> tuple[DemoCNN, list[Path]]:
    """Train the CNN on ``split``; save a state_dict after every epoch."""
    progress = progress or TaskProgress(False)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    x_all = preprocess(torch.from_numpy(split.images))
    y_all = torch.from_numpy(split.labels)
    steps = config.epochs * math.ceil(len(y_all) / config.batch_size)
    task = progress.task(f"train epoch 1/{config.epochs}", steps)
    checkpoints: list[Path] = []

    def batch_done(epoch: int, size: int, loss: float, acc: float) -> None:
        progress.advance(task, 1, description=f"train epoch {epoch}/{config.epochs}",
                         info=f"loss {loss:.3f}  acc {acc:6.1%}")

    def epoch_done(epoch: int, model: torch.nn.Module) -> None:
        checkpoints.append(save_state_dict(model, checkpoint_dir / checkpoint_name(epoch)))

    model = fit(lambda: DemoCNN(spec.n_classes, config.channels), cross_entropy_loss, x_all, y_all,
                config.train_settings(), on_batch=batch_done, on_epoch=epoch_done)
    _remove_stale_checkpoints(checkpoint_dir, config.epochs)
    assert isinstance(model, DemoCNN)
    return model, checkpoints


def _remove_stale_checkpoints(checkpoint_dir: Path, epochs: int) -> None:
    """Delete ``epoch-N.pt`` files with N > ``epochs`` left by a longer
    earlier run in the same folder, so the folder describes this run only."""
    for path in checkpoint_dir.glob("epoch-*.pt"):
        number = path.stem.removeprefix("epoch-")
        if number.isdigit() and int(number) > epochs:
            path.unlink()


def load_checkpoint(path: Path, n_classes: int, channels: tuple[int, ...] = CHANNELS) -> DemoCNN:
    """A demo CNN with the weights of ``path``, in eval mode."""
    model = DemoCNN(n_classes, channels)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


# -- evaluation ----------------------------------------------------------------


def evaluate(
    model: DemoCNN,
    split: Split,
    config: DemoConfig,
    variant: str = "original",
    layers: tuple[str, ...] = (),
    on_batch: Callable[[int], None] | None = None,
) -> InferenceResult:
    """Top-k predictions of ``model`` on ``split`` under ``variant`` (on the CPU)."""
    return evaluate_images(
        model, split.images, split.labels, k=config.k, batch_size=config.eval_batch_size, variant=variant,
        layers=layers, d=config.d, keep_maps=config.keep_maps, on_batch=on_batch,
    )


# -- the whole demo ------------------------------------------------------------


def build_demo_cache(
    path: Path,
    config: DemoConfig = DemoConfig(),
    checkpoint_dir: Path | None = None,
    progress: bool = True,
) -> Path:
    """Generate, train, evaluate and write the demo cache to ``path``.

    Checkpoints go to ``checkpoint_dir`` (default: ``<path stem>-checkpoints``
    next to the cache), one per epoch.  Returns the cache path.
    """
    path = Path(path)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else path.parent / f"{path.stem}-checkpoints"
    spec = default_spec()
    n_train = spec.n_classes * config.n_train_per_class
    n_eval = spec.n_classes * config.n_eval_per_class
    eval_runs = config.epochs - 1 + len(VARIANTS)  # each earlier checkpoint + the final model under each variant

    with ExitStack() as stack:
        bar = stack.enter_context(TaskProgress(progress))
        gen_task = bar.task("generate images", n_train + n_eval)
        advance_gen = lambda k: bar.advance(gen_task, k)  # noqa: E731
        train_split = make_train_split(config, spec, advance_gen)
        eval_split = make_eval_split(config, spec, advance_gen)

        model, checkpoints = train(spec, train_split, config, checkpoint_dir, bar)
        del train_split

        eval_task = bar.task("evaluate", eval_runs * n_eval)
        advance_eval = lambda k: bar.advance(eval_task, k)  # noqa: E731
        final = checkpoints[-1].name
        runs: list[tuple[str, InferenceResult, dict[str, Any]]] = []
        original = evaluate(model, eval_split, config, "original", tuple(config.layers), advance_eval)
        runs.append(("original", original, {"transform": "original", "checkpoint": final, "epoch": config.epochs}))
        for epoch in range(1, config.epochs):
            early = load_checkpoint(checkpoints[epoch - 1], spec.n_classes, config.channels)
            runs.append((epoch_name(epoch), evaluate(early, eval_split, config, "original", (), advance_eval),
                         {"transform": "original", "checkpoint": checkpoints[epoch - 1].name, "epoch": epoch}))
        for variant in VARIANTS[1:]:
            runs.append((variant, evaluate(model, eval_split, config, variant, (), advance_eval),
                         {"transform": variant, "checkpoint": final, "epoch": config.epochs}))

        with one_line_when_full(path.parent, lambda: f"could not write {printable(path.name)}; its unfinished file "
                                "is removed, the checkpoints and any earlier cache are untouched. Free some space "
                                "and run again", lambda: partial_path(path).unlink(missing_ok=True)):
            _write_cache(path, spec, eval_split, runs, original, config, checkpoint_dir)
    return path


def run_config(config: DemoConfig, checkpoint_dir: Path) -> dict[str, Any]:
    """The JSON run configuration stored in the cache."""
    return {
        "model": "demo-cnn",
        "weights": str(checkpoint_dir / checkpoint_name(config.epochs)),
        "checkpoint_dir": str(checkpoint_dir),
        "dataset": "demo",
        "split": "eval",
        "transforms": list(VARIANTS),
        "layers": list(config.layers),
        "d": config.d,
        "k": config.k,
        "seed": config.seed,
        "epochs": config.epochs,
        "image_size": SIZE,
        "input_size": INPUT_SIZE,
        "mean": list(MEAN),
        "std": list(STD),
        "demo_config": config.to_dict(),
        "blocks_tui_version": __version__,
    }


def _write_cache(
    path: Path,
    spec: DemoSpec,
    split: Split,
    runs: list[tuple[str, InferenceResult, dict[str, Any]]],
    original: InferenceResult,
    config: DemoConfig,
    checkpoint_dir: Path,
) -> None:
    with CacheWriter(path, run_config(config, checkpoint_dir)) as writer:
        writer.write_classes(spec.class_names)
        writer.write_hierarchy(list(spec.node_names), spec.parent, spec.class_index, source="demo")
        writer.write_samples(split.labels, [f"demo:eval/{i:06d}" for i in range(len(split))], split.images)
        for name, result, attrs in runs:
            writer.write_result_set(name, result.topk_index, result.topk_prob, result.true_prob, attrs)
        for layer in config.layers:
            writer.write_layer(
                layer,
                original.class_mean[layer],
                original.collective[layer],
                output_shape=original.output_shapes[layer],
                maps=original.maps[layer] if original.maps is not None else None,
            )
        writer.write_ground_truth(ground_truth(spec, split))
