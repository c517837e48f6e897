"""Which layers to record: candidates, their output shapes, and ``--layers auto``.

``auto`` needs no per-family table.  It walks the model's backbone (the
top-level children, with containers such as ``features``, ``layers``,
``blocks``, ``trunk_output`` and ``encoder.layers`` opened one level), runs one
dummy image through it, and keeps the *last* module at every spatial
resolution: those are the stage outputs of resnet, vgg, googlenet/inception,
mobilenet, efficientnet, convnext, densenet, regnet and swin.  Token models
(ViT) keep one resolution throughout, so their encoder blocks are spread
evenly instead.  4–6 layers result, from early to late.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UsageError
from ..nn.responses import resolve_layers as recorder_layers
from ..nn.responses import to_nchw

CONTAINERS = {"features", "layers", "blocks", "trunk_output", "stages", "encoder"}
HEADS = {"avgpool", "flatten", "fc", "classifier", "heads", "head", "norm", "permute", "dropout", "aux1", "aux2", "AuxLogits"}
MAX_VALUES_PER_SAMPLE = 8192
MIN_AUTO, MAX_AUTO = 4, 6


@dataclass(frozen=True)
class LayerInfo:
    name: str
    output_shape: tuple[int, ...]  # of one sample, as the module returns it
    channels: int
    side: int  # spatial side (grid side for tokens)


def backbone_candidates(model: nn.Module) -> list[str]:
    """Module names along the backbone, in forward order, heads excluded."""
    names: list[str] = []

    def walk(module: nn.Module, prefix: str, depth: int) -> None:
        for child_name, child in module.named_children():
            full = f"{prefix}{child_name}"
            if child_name in HEADS:
                continue
            if child_name in CONTAINERS and depth < 2 and len(list(child.children())) > 1:
                walk(child, f"{full}.", depth + 1)
            else:
                names.append(full)

    walk(model, "", 0)
    return names


def grid_of(shape: tuple[int, ...]) -> tuple[int, int]:
    """(channels, side) of one sample's output ``shape`` (batch dim removed).

    Applies the recorder's own layout rules (:func:`~blocks_tui.nn.responses.to_nchw`:
    NCHW, swin's NHWC, ViT tokens) to a shape-only tensor, so what is listed
    and sized here is exactly what gets recorded.
    """
    try:
        grid = to_nchw(torch.empty((1,) + tuple(shape), device="meta"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return int(grid.shape[1]), int(min(grid.shape[2], grid.shape[3]))


def probe_layers(model: nn.Module, names: list[str], image_size: int) -> list[LayerInfo]:
    """Output shape and pooling grid of each named module, from one dummy forward pass."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name in names:
        def hook(_m: nn.Module, _i: object, out: object, name: str = name) -> None:
            tensor = out[0] if isinstance(out, (tuple, list)) else out
            if isinstance(tensor, torch.Tensor) and name not in shapes:
                shapes[name] = tuple(tensor.shape[1:])
        handles.append(model.get_submodule(name).register_forward_hook(hook))
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        with torch.inference_mode():
            model.eval()(torch.zeros(1, 3, image_size, image_size, device=device))
    finally:
        for h in handles:
            h.remove()
    out = []
    for name in names:
        if name in shapes and len(shapes[name]) >= 1:
            channels, side = grid_of(shapes[name])
            out.append(LayerInfo(name, shapes[name], channels, side))
    return out


def auto_layers(model: nn.Module, image_size: int) -> list[str]:
    """4–6 layers from early to late: the last module at each resolution."""
    infos = [i for i in probe_layers(model, backbone_candidates(model), image_size) if len(i.output_shape) >= 2]
    if not infos:
        raise UsageError("found no spatial layers for --layers auto; name them with --layers a,b,c")
    stage_ends = [info.name for k, info in enumerate(infos) if k + 1 == len(infos) or infos[k + 1].side != info.side]
    if len(stage_ends) < MIN_AUTO:  # e.g. ViT: one resolution throughout
        stage_ends = _spread([i.name for i in infos], MIN_AUTO + 1)
    if len(stage_ends) > MAX_AUTO:
        stage_ends = _spread(stage_ends, MAX_AUTO)
    return stage_ends


def _spread(names: list[str], count: int) -> list[str]:
    """``count`` names evenly spaced over ``names``, always keeping the last."""
    if len(names) <= count:
        return names
    picks = sorted({round(i * (len(names) - 1) / (count - 1)) for i in range(count)})
    return [names[i] for i in picks]


def resolve_layers(model: nn.Module, spec: str, image_size: int) -> list[str]:
    """``auto`` or a comma list of module names; unknown names get close matches."""
    if spec == "auto":
        return auto_layers(model, image_size)
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError("--layers is empty; use auto or a,b,c")
    try:
        recorder_layers(model, names)
    except ValueError as exc:
        raise UsageError(f"{exc} (see --list-layers)") from None
    return names


def cells_per_side(info: LayerInfo, requested: int | None = None) -> int:
    """d for a layer: as requested, else the largest keeping C·d² ≤ ~8k values per sample."""
    if requested is not None:
        if requested < 1:
            raise UsageError("--downsample must be at least 1")
        return min(requested, info.side)
    return max(1, min(info.side, math.isqrt(MAX_VALUES_PER_SAMPLE // max(info.channels, 1))))
