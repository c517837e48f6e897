"""The demo's small CNN and its input preprocessing.

Small on purpose: it must train to a useful accuracy in well under a minute on
two CPU cores.  Its four stages are named ``stage1`` .. ``stage4`` so that
responses can be hooked from early (edges, colour) to late (shape parts)
layers, which is what the Blocks response view compares across classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 32
"""Side of the model input.  Images are rendered (and stored as thumbnails)
at 48 px; the model sees them area-downsampled to 32 px, which costs ~2.3x
less compute than 48 px and keeps every class recognisable."""

CHANNELS: tuple[int, int, int, int] = (16, 32, 64, 128)
"""Widths of the four stages.  A 128-wide last stage measured ~1.5 points
more accuracy than 96 at the same training time (the cost is in the 32 px
first stage, not the 4 px last one)."""

LAYERS: tuple[str, ...] = ("stage1", "stage2", "stage3", "stage4")
"""Hookable layer names, early to late."""

MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
STD: tuple[float, float, float] = (0.25, 0.25, 0.25)
"""Input normalisation: pixel values in [0, 1] are mapped to about [-2, 2].
Per-channel statistics would be no better here: colours are uniform random."""


def _stage(c_in: int, c_out: int, strided: bool = False) -> nn.Sequential:
    """conv 3x3 / BN / ReLU, halving the resolution by max-pool or stride."""
    if strided:
        conv = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False)
        return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), nn.MaxPool2d(2))


class DemoCNN(nn.Module):
    """Four conv/BN/ReLU stages that each halve the resolution, global average
    pool, linear head.

    The first stage downsamples with a strided convolution rather than a
    max-pool: at 32x32 the BN/ReLU/pool passes over full-resolution maps cost
    a third of a training step, and measured accuracy was the same.
    """

    def __init__(self, n_classes: int, channels: tuple[int, ...] = CHANNELS) -> None:
        super().__init__()
        c_in = 3
        for i, c_out in enumerate(channels, start=1):
            self.add_module(f"stage{i}", _stage(c_in, c_out, strided=i == 1))
            c_in = c_out
        self.n_stages = len(channels)
        self.channels = tuple(channels)
        self.head = nn.Linear(c_in, n_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of every stage, early to late: auxiliary heads read the
        intermediate ones (``nn/training.py``)."""
        outputs = []
        for i in range(1, self.n_stages + 1):
            x = getattr(self, f"stage{i}")(x)
            outputs.append(x)
        return outputs

    def classify(self, last: torch.Tensor) -> torch.Tensor:
        """Logits from the last stage's output: global average pool, linear head."""
        return self.head(torch.flatten(F.adaptive_avg_pool2d(last, 1), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x)[-1])


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` images -> normalised float ``(N, 3, 32, 32)``.

    Area resampling (the mean over each output pixel's footprint) is the
    right filter for shrinking: thin strokes (petals, arrow shafts) become
    fainter lines instead of vanishing between samples, as with bilinear.
    """
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="area")
    mean = torch.tensor(MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x.sub_(mean).div_(std)
