"""Models for ``--model package.module:factory`` tests (on PYTHONPATH=tests)."""

from __future__ import annotations

import time

import torch
from torch import nn


class TinyNet(nn.Module):
    """Two conv stages and a head; ``delay`` seconds per forward make kill tests deterministic."""

    def __init__(self, num_classes: int = 3, delay: float = 0.0) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.stage2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.head = nn.Linear(16, num_classes)
        self.delay = delay

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.delay:
            time.sleep(self.delay)
        return self.head(self.stage2(self.stage1(x)).mean(dim=(2, 3)))


def tiny(num_classes: int = 3) -> nn.Module:
    return TinyNet(num_classes)


def slow(num_classes: int = 3) -> nn.Module:
    return TinyNet(num_classes, delay=0.15)
