"""``blocks-tui probe``: train a linear probe per layer and store its held-out predictions.

For each layer, a linear softmax classifier is trained on the cached
per-sample responses (the d×d maps when the cache has them, else the
per-channel collective responses), with 2-fold cross-fitting on the
deterministic split of :func:`~blocks_tui.analysis.probes.probe_split`:
the probe trained on fold 0 predicts fold 1 and the other way round, so all
samples get a held-out prediction and the result set ``probe:<layer>`` has
one row per sample like any other.  All result sets and the split are
appended in one atomic copy-add-rename.

Two engines minimise the same loss (softmax cross-entropy + L2 on
standardised features): ``scipy`` (full-batch L-BFGS in numpy float32,
:func:`~blocks_tui.analysis.probes.fit_softmax_lbfgs`) and ``torch``
(mini-batch Adam, on a GPU when there is one).  torch is imported only when
the torch engine runs, so ``--engine scipy`` works without it.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..analysis.probes import (
    DEFAULT_L2,
    SPLIT_METHOD,
    Progress,
    Standardizer,
    fit_softmax_lbfgs,
    probe_split,
    softmax_topk,
)
from ..cache import Cache, LayerResponses, open_cache
from ..cache.result_names import is_probe, probe_name
from ..cache.schema import MIN_TOP_K
from ..cache.writer import NewResultSet, append_result_sets
from ..errors import UsageError
from ..safe_text import printable

if TYPE_CHECKING:
    from rich.console import Console

ENGINES = ("auto", "torch", "scipy")
DEFAULT_STEPS = {"scipy": 10, "torch": 10}
"""L-BFGS iterations / Adam epochs per fold: held-out top-1 peaks there on the 50k × 1000 synthetic cache
(more L-BFGS iterations lowered it; see :func:`~blocks_tui.analysis.probes.fit_softmax_lbfgs`)."""

TORCH_BATCH = 1024
TORCH_LR = 1e-2
MIN_TORCH_STEPS = 200

Report = Callable[[str, int], None]
"""Called with what is running now ("layer3 fold 1/2") and how many optimisation steps just finished."""


@dataclass(frozen=True)
class ProbeSettings:
    """How to train: ``engine`` and ``device`` already resolved (see :func:`resolve_engine`)."""

    engine: str
    device: str
    l2: float = DEFAULT_L2
    steps: int | None = None  # L-BFGS iterations (scipy) or epochs (torch) per fold

    @property
    def steps_per_fold(self) -> int:
        return self.steps or DEFAULT_STEPS[self.engine]


@dataclass(frozen=True)
class LayerProbe:
    """What one layer's probe achieved on held-out samples, and what it cost."""

    layer: str
    result_name: str
    features: str  # "maps" or "collective"
    n_features: int
    seconds: float
    top1: float
    top5: float


# -- choosing ---------------------------------------------------------------------
def resolve_layers(cache: Cache, spec: str | None) -> list[str]:
    """The layers to probe, in the cache's (early-to-late) order; UsageError with close matches for a typo."""
    if not cache.layer_names:
        raise UsageError(f"{cache.path} has no layer responses to probe; extract with --layers")
    if not spec:
        return list(cache.layer_names)
    wanted = [name.strip() for name in spec.split(",") if name.strip()]
    if not wanted:
        raise UsageError("--layers is empty; give layer names such as " + ",".join(cache.layer_names[:2]))
    for name in wanted:
        if name not in cache.layer_names:
            close = difflib.get_close_matches(name, cache.layer_names, n=4, cutoff=0.4)
            hint = f"did you mean {', '.join(close)}?" if close else f"it has {', '.join(cache.layer_names)}"
            raise UsageError(f"no layer {name!r} in {cache.path}; {hint}")
    return [name for name in cache.layer_names if name in wanted]


def resolve_engine(engine: str, device: str) -> ProbeSettings:
    """``auto`` engine: torch on a GPU, else scipy.

    On the 2-core CPU both engines took the same time for the same held-out
    accuracy (``blocks-tui bench probe``: 217 s vs 213 s, top-1 within 0.4
    points on every layer of the 50k × 1000 synthetic cache), so the CPU
    default is the one without torch's import, learning rate or batch size.

    ``auto`` device: cuda when torch sees one.  The scipy engine runs on the
    CPU only, so asking for it on cuda is a usage error.
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda[:i], got {device!r}")
    if engine == "scipy":
        if device.startswith("cuda"):
            raise UsageError("--engine scipy runs on the CPU; use --engine torch for --device cuda")
        return ProbeSettings("scipy", "cpu")
    try:
        import torch
    except ImportError:
        if engine == "torch" or device.startswith("cuda"):
            raise UsageError("--engine torch needs torch installed (pip install torch)") from None
        return ProbeSettings("scipy", "cpu")
    has_cuda = torch.cuda.is_available()
    if device.startswith("cuda") and not has_cuda:
        raise UsageError(f"--device {device}: torch sees no CUDA device here")
    if device == "auto":
        device = "cuda" if has_cuda else "cpu"
    if engine == "auto":
        engine = "torch" if device.startswith("cuda") else "scipy"
    return ProbeSettings(engine, device)


# -- training ------------------------------------------------------------------------
def layer_features(layer: LayerResponses) -> tuple[np.ndarray, str]:
    """(samples, features) float16 responses of a layer: the flattened d×d maps when stored, else collective."""
    if layer.has_maps:
        maps = layer.maps()
        return maps.reshape(len(maps), -1), "maps"
    return layer.collective(), "collective"


def fit_softmax_torch(
    x: np.ndarray, y: np.ndarray, n_classes: int, l2: float, epochs: int, device: str,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The torch engine: mini-batch Adam on the same loss as the scipy engine; (W, b) as float32 numpy.

    Batches of 1024 with a cosine-decayed learning rate, for ``epochs``
    passes but at least :data:`MIN_TORCH_STEPS` updates (a few hundred
    samples make one batch, and 10 updates would stop far from the optimum).
    The L2 term is the full objective's (``l2``/2·‖W‖² per batch, not Adam's
    decoupled decay), so both engines minimise the same function.
    ``progress`` is called ``epochs`` times in all.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    ys = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)
    weights = torch.zeros(xs.shape[1], n_classes, device=device, requires_grad=True)
    bias = torch.zeros(n_classes, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([weights, bias], lr=TORCH_LR)
    batch = min(TORCH_BATCH, len(xs))
    total = max(epochs * (len(xs) // batch), MIN_TORCH_STEPS)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    done = reported = 0
    while done < total:
        order = torch.randperm(len(xs), generator=generator).to(device)
        for start in range(0, len(xs) - batch + 1, batch):  # whole batches only: equal weight per update
            rows = order[start : start + batch]
            loss = torch.nn.functional.cross_entropy(xs[rows] @ weights + bias, ys[rows])
            loss = loss + 0.5 * l2 * (weights * weights).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            done += 1
            due = done * epochs // total
            if progress and due > reported:
                progress(due - reported)
                reported = due
            if done == total:
                break
    return weights.detach().cpu().numpy(), bias.detach().cpu().numpy()


def cross_fit(
    x: np.ndarray, labels: np.ndarray, split: np.ndarray, n_classes: int, settings: ProbeSettings,
    report: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out top-k columns for every sample: fold f's probe predicts the other fold.

    ``x`` is (samples, features) raw responses; each fold standardises with
    its own training rows' statistics.  ``report(fold, steps)`` is called as
    optimisation steps finish.  Returns the cache's result-set columns.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    top_index = np.empty((n, MIN_TOP_K), dtype=np.int32)
    top_prob = np.empty((n, MIN_TOP_K), dtype=np.float32)
    true_prob = np.empty(n, dtype=np.float32)
    for fold in (0, 1):
        train, test = np.flatnonzero(split == fold), np.flatnonzero(split != fold)
        if not len(train) or not len(test):
            raise UsageError(f"too few samples ({n}) for a two-fold probe")
        scaler = Standardizer.fit(x[train])
        x_train = scaler.apply(x[train])

        def step(count: int, fold: int = fold) -> None:
            if report:
                report(fold, count)

        if settings.engine == "torch":
            w, b = fit_softmax_torch(x_train, labels[train], n_classes, settings.l2, settings.steps_per_fold,
                                     settings.device, step)
        else:
            w, b = fit_softmax_lbfgs(x_train, labels[train], n_classes, settings.l2, settings.steps_per_fold, step)
        del x_train
        cols = softmax_topk(scaler.apply(x[test]), w, b, labels[test], MIN_TOP_K)
        top_index[test], top_prob[test], true_prob[test] = cols
    return top_index, top_prob, true_prob


def probe_layers(
    cache: Cache, layers: Sequence[str], settings: ProbeSettings, report: Report | None = None,
) -> tuple[list[LayerProbe], list[NewResultSet], np.ndarray]:
    """Train and cross-fit each layer's probe; returns the summaries, the result sets and the split (nothing written)."""
    split = probe_split(cache.labels)
    labels = cache.labels
    summaries: list[LayerProbe] = []
    sets: list[NewResultSet] = []
    for layer in layers:
        started = time.perf_counter()
        if report:
            report(f"{layer}: reading", 0)
        x, kind = layer_features(cache.layer(layer))

        def step(fold: int, count: int, layer: str = layer) -> None:
            if report:
                report(f"{layer} fold {fold + 1}/2", count)

        top_index, top_prob, true_prob = cross_fit(x, labels, split, cache.n_classes, settings, step)
        n_features = x.shape[1]
        del x
        name = probe_name(layer)
        hits = top_index == labels[:, None]
        summaries.append(LayerProbe(layer, name, kind, n_features, time.perf_counter() - started,
                                    float(hits[:, 0].mean()), float(hits.any(axis=1).mean())))
        sets.append(NewResultSet(name, top_index, top_prob, true_prob, {
            "transform": "probe", "probe_layer": layer, "features": kind, "engine": settings.engine,
            "device": settings.device, "l2": settings.l2, "steps": settings.steps_per_fold,
            "heldout": "every sample: 2-fold cross-fitting on probes/split",
        }))
    return summaries, sets, split


def probe_cache(path: Path, layers: Sequence[str], settings: ProbeSettings,
                report: Report | None = None) -> tuple[list[LayerProbe], list[str]]:
    """Probe ``layers`` of the cache at ``path`` and append ``probe:<layer>`` result sets atomically.

    Re-running replaces those result sets.  Probes of other layers stay when
    the stored split is the same (it is, unless the labels changed); when it
    differs they are removed, since they would not match the new split.
    Returns the summaries and the names of removed stale probe sets.
    """
    with open_cache(path) as cache:
        summaries, sets, split = probe_layers(cache, layers, settings, report)
        old = cache.probe_split
        rewritten = {new.name for new in sets}
        stale = [] if old is None or np.array_equal(old, split) else [
            name for name in cache.result_names if is_probe(name) and name not in rewritten]
    if report:
        report("writing", 0)
    append_result_sets(path, sets, replace=True, probe_split=split, split_method=SPLIT_METHOD, remove=stale)
    return summaries, stale


def run_probes_with_progress(path: Path, layers: Sequence[str], settings: ProbeSettings,
                             console: Console, write: bool = True) -> list[LayerProbe]:
    """Probe with a rich progress bar (steps of all layers and folds, rate, ETA); ``write=False`` only measures."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    total = len(layers) * 2 * settings.steps_per_fold
    columns = (TextColumn(f"[bold]probe ({settings.engine}, {settings.device})"),
               TextColumn("{task.description}", markup=False),
               BarColumn(), MofNCompleteColumn(), TextColumn("steps"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("", total=total)

        def report(what: str, steps: int) -> None:
            bar.update(task, description=printable(what), advance=steps)  # layer names come from the data

        if write:
            summaries, stale = probe_cache(path, layers, settings, report)
            if stale:
                console.print(f"Removed {len(stale)} probe result sets of an earlier split: "
                              f"{printable(', '.join(stale))}", markup=False, highlight=False)
            return summaries
        with open_cache(path) as cache:
            return probe_layers(cache, layers, settings, report)[0]
