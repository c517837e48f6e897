"""Layer recording and inference on real (untrained, seeded) torch models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from blocks_tui.nn.demo_cnn import DemoCNN
from blocks_tui.nn.inference import ClassMeanAccumulator, collective, run_inference
from blocks_tui.nn.responses import LayerRecorder, pool_output, to_nchw


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None, num_classes=10).eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def test_pooled_shapes_and_output_shapes_of_resnet_stages(resnet: nn.Module, images: torch.Tensor) -> None:
    layers = ["layer1", "layer2", "layer3", "layer4"]
    with LayerRecorder(resnet, layers, d=3) as rec, torch.inference_mode():
        resnet(images)
        pooled = rec.pop()
    assert list(pooled) == layers
    assert {n: tuple(t.shape) for n, t in pooled.items()} == {
        "layer1": (4, 64, 3, 3), "layer2": (4, 128, 3, 3), "layer3": (4, 256, 3, 3), "layer4": (4, 512, 3, 3),
    }
    assert all(t.dtype == torch.float32 for t in pooled.values())
    assert rec.output_shapes == {
        "layer1": (64, 16, 16), "layer2": (128, 8, 8), "layer3": (256, 4, 4), "layer4": (512, 2, 2),
    }


def test_pooling_inside_the_hook_survives_an_inplace_relu(resnet: nn.Module, images: torch.Tensor) -> None:
    # layer1.0.bn1 is followed by ReLU(inplace=True): it overwrites bn1's output.
    bn1 = resnet.get_submodule("layer1.0.bn1")
    seen: dict[str, torch.Tensor] = {}

    def keep(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
        seen["clone"] = output.clone()
        seen["reference"] = output

    handle = bn1.register_forward_hook(keep)
    try:
        with LayerRecorder(resnet, ["layer1.0.bn1"], d=2) as rec, torch.inference_mode():
            resnet(images)
            pooled = rec.pop()["layer1.0.bn1"]
    finally:
        handle.remove()
    expected = F.adaptive_avg_pool2d(seen["clone"], 2)
    torch.testing.assert_close(pooled, expected)
    # what pooling a kept reference after the forward pass would have given: wrong
    late = F.adaptive_avg_pool2d(seen["reference"], 2)
    assert (seen["reference"] >= 0).all() and (seen["clone"] < 0).any()
    assert not torch.allclose(late, expected)


def test_the_demo_cnn_stages(images: torch.Tensor) -> None:
    torch.manual_seed(0)
    model = DemoCNN(34).eval()
    x = F.interpolate(images, size=32)
    with LayerRecorder(model, ["stage1", "stage2", "stage3", "stage4"], d=3) as rec, torch.inference_mode():
        model(x)
        pooled = rec.pop()
    assert rec.output_shapes == {"stage1": (16, 16, 16), "stage2": (32, 8, 8), "stage3": (64, 4, 4), "stage4": (128, 2, 2)}
    assert [tuple(t.shape) for t in pooled.values()] == [(4, 16, 3, 3), (4, 32, 3, 3), (4, 64, 3, 3), (4, 128, 3, 3)]


class _TupleAndTokens(nn.Module):
    """Patch embedding + class token + self-attention (returns a tuple) + a
    channels-last view, to exercise every layout the recorder handles."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 4, stride=4)  # 16x16 -> 4x4 grid
        self.cls = nn.Parameter(torch.randn(1, 1, 8))
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.nhwc = nn.Identity()
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = self.patch(x)
        self.nhwc(grid.permute(0, 2, 3, 1))
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), grid.flatten(2).transpose(1, 2)], dim=1)
        out, _ = self.attn(tokens, tokens, tokens)
        return self.head(out[:, 0])


def test_tuple_token_and_channels_last_outputs() -> None:
    torch.manual_seed(0)
    model = _TupleAndTokens().eval()
    x = torch.randn(2, 3, 16, 16)
    grids: dict[str, torch.Tensor] = {}

    def keep_attention(module: nn.Module, inputs: object, output: tuple[torch.Tensor, torch.Tensor]) -> None:
        grids["attn"] = output[0].clone()

    model.attn.register_forward_hook(keep_attention)
    with LayerRecorder(model, ["attn", "nhwc", "patch"], d=2) as rec, torch.inference_mode():
        model(x)
        pooled = rec.pop()
    assert rec.output_shapes["attn"] == (17, 8)  # class token + 16 patches
    assert rec.output_shapes["nhwc"] == (4, 4, 8)
    # channels-last is recognised and pooled like the channels-first original
    torch.testing.assert_close(pooled["nhwc"], pooled["patch"])
    # tokens: class token dropped, the 16 patches laid out on their 4x4 grid
    attn_grid = grids["attn"][:, 1:, :].reshape(2, 4, 4, 8).permute(0, 3, 1, 2)
    torch.testing.assert_close(pooled["attn"], F.adaptive_avg_pool2d(attn_grid, 2))


def test_layouts_by_rule_and_override() -> None:
    assert to_nchw(torch.zeros(2, 5, 7, 7)).shape == (2, 5, 7, 7)
    assert to_nchw(torch.zeros(2, 7, 7, 5)).shape == (2, 5, 7, 7)
    assert to_nchw(torch.zeros(2, 7, 7, 5), "nchw").shape == (2, 7, 7, 5)
    assert to_nchw(torch.zeros(2, 50, 6)).shape == (2, 6, 7, 7)  # ViT: class token + 7x7
    assert to_nchw(torch.zeros(2, 51, 6)).shape == (2, 6, 7, 7)  # DeiT: + distillation token
    assert to_nchw(torch.zeros(2, 6)).shape == (2, 6, 1, 1)
    assert pool_output(torch.ones(2, 6), 3).shape == (2, 6, 3, 3)
    with pytest.raises(ValueError, match="square grid"):
        to_nchw(torch.zeros(2, 53, 6))
    with pytest.raises(ValueError, match="5-D"):
        to_nchw(torch.zeros(1, 2, 3, 4, 5))


def test_unknown_layer_names_the_layer_and_suggests(resnet: nn.Module) -> None:
    with pytest.raises(ValueError, match=r"unknown layer 'layer5'.*layer[1-4]"):
        LayerRecorder(resnet, ["layer1", "layer5"])
    with pytest.raises(ValueError, match=r"unknown layer 'zzz'.*valid names include: conv1, bn1"):
        LayerRecorder(resnet, ["zzz"])


def test_hooks_are_removed_disabled_and_per_layer_cells(resnet: nn.Module, images: torch.Tensor) -> None:
    with LayerRecorder(resnet, ["layer1", "layer4"], {"layer1": 4, "layer4": 1}) as rec, torch.inference_mode():
        resnet(images)
        assert tuple(rec.pooled["layer1"].shape[2:]) == (4, 4)
        assert tuple(rec.pooled["layer4"].shape[2:]) == (1, 1)
        rec.pop()
        rec.enabled = False
        resnet(images)
        assert rec.pooled == {}
        with pytest.raises(RuntimeError, match="did not run"):
            rec.pop()
    assert not resnet.layer1._forward_hooks and not resnet.layer4._forward_hooks


def test_class_means_stream_to_the_same_numbers() -> None:
    rng = np.random.default_rng(0)
    responses = rng.normal(size=(50, 6, 3, 3)).astype(np.float32)
    labels = rng.integers(-1, 4, size=50)  # -1: unlabelled, left out; class 4 never occurs
    acc = ClassMeanAccumulator(5)
    for start in range(0, 50, 7):
        acc.update(responses[start : start + 7], labels[start : start + 7])
    mean = acc.mean()
    assert mean.shape == (5, 6, 3, 3) and mean.dtype == np.float32
    for c in range(4):
        np.testing.assert_allclose(mean[c], responses[labels == c].mean(axis=0), rtol=1e-5, atol=1e-6)
    assert (mean[4] == 0).all() and acc.counts[4] == 0
    assert acc.counts.sum() == (labels >= 0).sum()
    with pytest.raises(ValueError, match="out of range"):
        acc.update(responses[:1], np.array([5]))


def test_run_inference_end_to_end(resnet: nn.Module) -> None:
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(10, 3, 64, 64, generator=gen)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, -1])
    batches = [(x[:4], y[:4]), (x[4:], y[4:])]
    resnet.train()
    result = run_inference(resnet, batches, n_classes=10, layers=["layer2", "layer4"], d=2, k=5, keep_maps=True)
    assert resnet.training  # mode restored
    resnet.eval()
    with torch.inference_mode():
        probs = torch.softmax(resnet(x), dim=1).numpy()
    order = np.argsort(-probs, axis=1)[:, :5]
    np.testing.assert_array_equal(result.topk_index, order)
    np.testing.assert_allclose(result.topk_prob, np.take_along_axis(probs, order, 1), rtol=1e-5)
    np.testing.assert_allclose(result.true_prob[:9], probs[np.arange(9), y[:9].numpy()], rtol=1e-5)
    assert np.isnan(result.true_prob[9])
    assert result.maps is not None and result.maps["layer4"].shape == (10, 512, 2, 2)
    assert result.collective["layer4"].dtype == np.float16 and result.collective["layer4"].shape == (10, 512)
    np.testing.assert_allclose(result.collective["layer2"], collective(result.maps["layer2"]))
    np.testing.assert_allclose(result.class_mean["layer2"][3], result.maps["layer2"][3], rtol=1e-5)
    assert result.output_shapes == {"layer2": (128, 8, 8), "layer4": (512, 2, 2)}
    assert result.class_counts is not None and result.class_counts.sum() == 9
