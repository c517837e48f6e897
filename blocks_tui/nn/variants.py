"""Result-set variants: the same images, transformed on the device before the forward pass.

The paper compares a model on original, grayscale and rotated images (Fig. 8,
9); each variant becomes one result set over the same samples.  Transforms act
on the normalised batch, so the loader decodes every image once.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..cache.result_names import VARIANTS, is_variant
from ..errors import UsageError

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, what PIL's convert("L") uses


def parse_variants(spec: str) -> list[str]:
    """``original,grayscale,rot90`` → a checked list (original always first)."""
    names = [v.strip() for v in spec.split(",") if v.strip()]
    unknown = [v for v in names if not is_variant(v)]
    if unknown:
        raise UsageError(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    if not names:
        raise UsageError("--variants is empty")
    if len(set(names)) != len(names):
        raise UsageError("--variants repeats a name")
    return names


def apply_variant(x: torch.Tensor, variant: str, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``x`` (N, 3, H, W) normalised → the same batch under ``variant``."""
    if variant == "original":
        return x
    if variant == "grayscale":
        m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        w = torch.tensor(LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        gray = ((x * s + m) * w).sum(1, keepdim=True)
        return (gray.expand_as(x) - m) / s
    if variant.startswith("rot"):
        return torch.rot90(x, int(variant[3:]) // 90, dims=(2, 3))
    if variant == "hflip":
        return torch.flip(x, dims=(3,))
    raise UsageError(f"unknown variant {variant!r}")
