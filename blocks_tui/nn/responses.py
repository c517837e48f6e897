"""Record pooled layer responses with forward hooks.

The Blocks response view compares, per class, how strongly each channel of a
layer fires in each of ``d x d`` image regions.  Full feature maps are far too
big to keep (ResNet-50's first stage alone is 256x56x56 floats per image), so
every output is average-pooled to ``d x d`` cells *inside the hook*, the
moment the module produces it.  Pooling there is not only cheaper, it is the
only correct place: a following in-place op (``ReLU(inplace=True)`` right after
a BatchNorm, the residual ``out += identity``) overwrites the very tensor the
hook saw, so keeping a reference and pooling later would record the wrong
numbers.

Layouts are normalised to ``(N, C, H, W)`` before pooling:

* 4-D outputs are channels-first (CNNs) unless they look channels-last: Swin
  stages emit ``(N, H, W, C)``.  "Looks channels-last" means dims 1 and 2 are
  equal (a square map) and dim 3 differs; pass ``layouts={name: "nhwc"}`` (or
  ``"nchw"``) where that guess is wrong.
* 3-D outputs ``(N, L, C)`` are token sequences (ViT blocks).  If ``L`` is a
  square they are reshaped to an ``sqrt(L) x sqrt(L)`` grid; if ``L - 1`` is,
  the leading class token is dropped first (``L - 2``: class + distillation
  tokens, as in DeiT).  Other lengths cannot be laid out on a grid: error.
* 2-D outputs ``(N, C)`` (pooled features, logits) are one global cell,
  repeated over the ``d x d`` grid so every layer shares the same shape.

Tuple or list outputs (modules that also return attention weights, say)
contribute their first element.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Layout = Literal["auto", "nchw", "nhwc", "tokens", "vector"]


def resolve_layers(model: nn.Module, names: Sequence[str]) -> dict[str, nn.Module]:
    """Map layer names to submodules, with a helpful error for typos.

    Raises ``ValueError`` naming the unknown layer and suggesting valid names
    (close matches first, then the model's first few named modules).
    """
    resolved: dict[str, nn.Module] = {}
    for name in names:
        try:
            resolved[name] = model.get_submodule(name)
        except AttributeError:
            valid = [n for n, _ in model.named_modules() if n]
            close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
            examples = close or valid[:8]
            more = "" if close else (", ..." if len(valid) > 8 else "")
            raise ValueError(
                f"unknown layer {name!r} in {type(model).__name__}; "
                f"{'did you mean' if close else 'valid names include'}: "
                f"{', '.join(examples)}{more}"
            ) from None
    return resolved


def _square_side(n: int) -> int | None:
    side = math.isqrt(n)
    return side if side * side == n else None


def to_nchw(output: torch.Tensor, layout: Layout = "auto") -> torch.Tensor:
    """View a layer output as ``(N, C, H, W)`` following the rules above."""
    if layout == "auto":
        if output.dim() == 4:
            n, a, b, c = output.shape
            layout = "nhwc" if (a == b and c != b) else "nchw"
        elif output.dim() == 3:
            layout = "tokens"
        elif output.dim() == 2:
            layout = "vector"
        else:
            raise ValueError(f"cannot pool a {output.dim()}-D output of shape {tuple(output.shape)}")
    if layout == "nchw":
        return output
    if layout == "nhwc":
        return output.permute(0, 3, 1, 2)
    if layout == "vector":
        return output[:, :, None, None]
    if layout == "tokens":
        n, length, channels = output.shape
        for skip in (0, 1, 2):  # no prefix, class token, class + distillation token
            side = _square_side(length - skip)
            if side:
                grid = output[:, skip:, :].reshape(n, side, side, channels)
                return grid.permute(0, 3, 1, 2)
        raise ValueError(
            f"token output of length {length} does not form a square grid "
            "(even after dropping 1 or 2 leading tokens); choose another layer"
        )
    raise ValueError(f"unknown layout {layout!r}")


def pool_output(output: torch.Tensor | Sequence[torch.Tensor], d: int, layout: Layout = "auto") -> torch.Tensor:
    """Average-pool one layer output to float32 ``(N, C, d, d)``."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    x = to_nchw(output.detach(), layout).float()
    return F.adaptive_avg_pool2d(x, d)


class LayerRecorder:
    """Context manager hooking named modules; pools each output to ``d x d``.

    Usage::

        with LayerRecorder(model, ["layer1", "layer4"], d=3) as rec:
            logits = model(x)
            pooled = rec.pop()      # {"layer1": (N, C1, 3, 3), ...} float32
        rec.output_shapes           # {"layer1": (64, 56, 56), ...} per sample

    ``d`` is one grid size for every layer or a mapping layer -> grid size.
    :attr:`pooled` is the latest pooled output of every layer that ran (kept
    until overwritten); :meth:`pop` returns it and forgets it, so a layer that
    did not run is noticed.  Setting :attr:`enabled` to False makes the hooks
    do nothing — for forward passes whose responses are not wanted, such as
    the transformed variants of a batch.

    ``output_shapes`` holds each layer's output shape without the batch
    dimension, in the layout the module produced it (before pooling).  A module
    run several times in one forward pass (a shared activation module) records
    its last run.  Pooled tensors stay on the model's device; the caller moves
    them (once per batch, not once per layer).
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[str],
        d: int | Mapping[str, int] = 3,
        layouts: Mapping[str, Layout] | None = None,
    ) -> None:
        self.model = model
        self.layers = list(layers)
        self.cells = {name: int(d[name] if isinstance(d, Mapping) else d) for name in self.layers}
        bad = {name: v for name, v in self.cells.items() if v < 1}
        if bad:
            raise ValueError(f"d must be at least 1, got {bad}")
        self.layouts = dict(layouts or {})
        self.modules = resolve_layers(model, self.layers)
        self.enabled = True
        self.output_shapes: dict[str, tuple[int, ...]] = {}
        self.pooled: dict[str, torch.Tensor] = {}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def _hook(self, name: str):
        layout = self.layouts.get(name, "auto")
        d = self.cells[name]

        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            if not self.enabled:
                return
            first = output[0] if isinstance(output, (tuple, list)) else output
            if name not in self.output_shapes:
                self.output_shapes[name] = tuple(first.shape[1:])
            self.pooled[name] = pool_output(first, d, layout)

        return hook

    def __enter__(self) -> "LayerRecorder":
        for name, module in self.modules.items():
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def pop(self) -> dict[str, torch.Tensor]:
        """The pooled responses of the last forward pass, in layer order.

        Raises ``RuntimeError`` if a layer did not run (a branch the forward
        pass skipped), rather than silently returning stale numbers.
        """
        missing = [n for n in self.layers if n not in self.pooled]
        if missing:
            raise RuntimeError(f"layers did not run in the last forward pass: {', '.join(missing)}")
        pooled = {n: self.pooled[n] for n in self.layers}
        self.pooled = {}
        return pooled
