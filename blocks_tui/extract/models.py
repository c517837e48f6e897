"""Loading the classifier to extract from: torchvision's registry, a checkpoint, or your own factory.

Every way a model can fail to load (an unknown name, weights that are not on
the machine, a checkpoint whose keys don't match) becomes one
:class:`~blocks_tui.errors.UsageError` line that says what to change.

Checkpoints are read with ``torch.load(weights_only=True)``: tensors and plain
containers only.  A pickle is a program, and a whole saved module (or anything
else that needs the full unpickler) can run any code while it loads, so that
happens only when ``--trust-checkpoint`` says so, and the refusal names the flag.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torchvision
from torch import nn
from torchvision.transforms import v2 as T

from ..errors import BlocksError, UsageError
from ..safe_text import printable

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class TransformSpec:
    """How images become tensors; recorded in the cache's configuration."""

    resize: int = 256
    crop: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"

    def build(self) -> Callable[[Any], torch.Tensor]:
        mode = T.InterpolationMode(self.interpolation)
        return T.Compose([
            T.ToImage(),
            T.Resize(self.resize, interpolation=mode, antialias=True),
            T.CenterCrop(self.crop),
            T.ToDtype(torch.float32, scale=True),
            T.Normalize(self.mean, self.std),
        ])

    def as_config(self) -> dict[str, Any]:
        return {"resize": self.resize, "crop": self.crop, "mean": list(self.mean), "std": list(self.std),
                "interpolation": self.interpolation}


@dataclass
class LoadedModel:
    """A model in eval mode with what the cache records about it."""

    model: nn.Module
    name: str
    weights: str  # "none", or the weights enum's full name
    checkpoint: str | None
    num_classes: int
    class_names: list[str] | None  # from the weights' metadata, when present
    transform: TransformSpec
    config: dict[str, Any] = field(default_factory=dict)
    checkpoint_sha256: str | None = None  # of the bytes loaded: a resume refuses a changed checkpoint


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def classification_models() -> list[str]:
    """Names of torchvision's image classifiers."""
    return sorted(torchvision.models.list_models(module=torchvision.models))


def _weights_for(name: str, weights: str) -> Any:
    if weights.lower() == "none":
        return None
    try:
        enum = torchvision.models.get_model_weights(name)
    except (ValueError, KeyError):
        raise UsageError(f"model {name!r} has no published weights; use --weights none") from None
    if weights == "DEFAULT":
        return enum.DEFAULT
    key = weights.split(".")[-1]
    if key not in enum.__members__:
        raise UsageError(f"unknown weights {weights!r} for {name}; choose DEFAULT, none or {', '.join(enum.__members__)}")
    return enum[key]


def _require_local_weights(weights: Any, download: bool) -> None:
    """Refuse to download weights unless ``--download`` says so."""
    if weights is None or download:
        return
    filename = Path(weights.url).name
    local = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if not local.exists():
        raise UsageError(f"weights {weights} are not in {local.parent}; pass --download to fetch {filename}")


def _import_factory(spec: str) -> Callable[..., nn.Module]:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r} for --model {spec}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UsageError(f"{module_name} has no callable {attr!r} (--model package.module:factory)")
    return factory


TRUST_FLAG = "--trust-checkpoint"
_UNSAFE_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")
_UNSAFE_OPCODE = re.compile(r"Unsupported operand (\d+)")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB blocks (about 1 s per GB on one core)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _untrusted_refusal(path: Path, exc: BaseException) -> UsageError:
    """One line for a checkpoint that ``weights_only=True`` cannot read, naming the flag that would."""
    text = str(exc)
    if m := _UNSAFE_GLOBAL.search(text):
        what = f"it refers to {printable(m.group(1), 200)}"
    elif m := _UNSAFE_OPCODE.search(text):
        what = f"pickle opcode {m.group(1)} is outside what weights-only loading reads"
    else:
        what = "weights-only loading cannot read it"
    return UsageError(
        f"{printable(path)}: not loaded: {what}. Only tensors and plain containers load by default; a whole "
        f"pickled model or any other object needs the full unpickler, which can run code from the file. "
        f"Pass {TRUST_FLAG} only if you trust where the file came from"
    )


def _read_checkpoint(path: Path, trust: bool) -> tuple[Any, str]:
    """The unpickled checkpoint and the SHA-256 of the bytes it was read from."""
    shown = printable(path)
    try:
        before = os.stat(path)
        digest = file_sha256(path)
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such checkpoint") from None
    except IsADirectoryError:
        raise UsageError(f"{shown}: a folder, not a checkpoint") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read the checkpoint ({printable(exc.strerror or exc)})") from None
    with warnings.catch_warnings():  # torch warns about pickle protocols on stderr: not one line
        warnings.simplefilter("ignore")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=not trust)
        except Exception as exc:  # noqa: BLE001 - torch and pickle raise many kinds here
            if not trust and "weights only load failed" in str(exc).lower():
                raise _untrusted_refusal(path, exc) from None
            raise UsageError(f"{shown}: not a torch checkpoint ({type(exc).__name__}: {printable(_one_line(exc), 300)})") from None
    after = os.stat(path)
    if (before.st_ino, before.st_size, before.st_mtime_ns) != (after.st_ino, after.st_size, after.st_mtime_ns):
        raise BlocksError(f"{shown} changed while it was being read; run again once it is written")
    return obj, digest


def _load_checkpoint(model: nn.Module | None, path: Path, trust: bool = False) -> tuple[nn.Module, str]:
    """Load a state_dict (plain, ``{"state_dict": ...}`` or ``module.``-prefixed) or, trusted, a whole module.

    Returns the model and the checkpoint's SHA-256.
    """
    obj, digest = _read_checkpoint(path, trust)
    return _apply_checkpoint(model, obj, path), digest


def _apply_checkpoint(model: nn.Module | None, obj: Any, path: Path) -> nn.Module:
    """The whole module ``obj``, or ``model`` with the state_dict ``obj`` loaded into it."""
    if isinstance(obj, nn.Module):
        return obj
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UsageError(f"{printable(path)}: neither a state_dict nor a whole model")
    if model is None:
        raise UsageError(f"{printable(path)} is a state_dict; also pass --model NAME to say which architecture it is for")
    state = {k.removeprefix("module."): v for k, v in obj.items()}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    resized = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
               if k in state and state[k].shape != v.shape]
    if missing or unexpected or resized:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys ({', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys ({', '.join(unexpected[:3])})")
        if resized:
            parts.append(f"{len(resized)} shapes differ ({', '.join(resized[:2])}; --num-classes?)")
        raise UsageError(f"{printable(path)} does not fit the model: {'; '.join(parts)}")
    model.load_state_dict(state)
    return model


def _infer_num_classes(model: nn.Module) -> int:
    """Output size of the last Linear layer (the classifier head)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise UsageError("cannot tell the model's number of classes (no Linear layer); pass --num-classes")
    return int(linears[-1].out_features)


def load_model(
    spec: str | None,
    weights: str = "none",
    checkpoint: Path | None = None,
    num_classes: int | None = None,
    transform: TransformSpec | None = None,
    download: bool = False,
    trust_checkpoint: bool = False,
) -> LoadedModel:
    """Build the model the options describe, in eval mode, on the CPU.

    ``trust_checkpoint`` allows the full unpickler for ``checkpoint`` (a whole
    saved module); without it only tensors and plain containers load.
    """
    weight_enum = None
    model: nn.Module | None = None
    name = spec or "checkpoint"
    if spec and ":" in spec:
        kwargs = {"num_classes": num_classes} if num_classes else {}
        try:
            model = _import_factory(spec)(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the user's factory may raise anything
            raise UsageError(f"--model {spec}: the factory failed: {type(exc).__name__}: {_one_line(exc)}") from None
        if not isinstance(model, nn.Module):
            raise UsageError(f"--model {spec} did not return an nn.Module")
    elif spec:
        known = classification_models()
        if spec not in known:
            close = difflib.get_close_matches(spec, known, n=4)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see torchvision.models.list_models()"
            raise UsageError(f"unknown model {spec!r}{hint}")
        weight_enum = _weights_for(spec, weights)
        if weight_enum is not None and num_classes and num_classes != len(weight_enum.meta["categories"]):
            raise UsageError(f"--num-classes {num_classes} differs from the {len(weight_enum.meta['categories'])} of {weight_enum}; use --weights none with --checkpoint")
        _require_local_weights(weight_enum, download)
        kwargs = {"num_classes": num_classes} if num_classes and weight_enum is None else {}
        try:
            model = torchvision.models.get_model(spec, weights=weight_enum, **kwargs)
        except Exception as exc:  # noqa: BLE001 - torchvision raises many kinds here
            raise UsageError(f"cannot build {spec}: {exc}") from None
    elif checkpoint is None:
        raise UsageError("say which model: --model NAME, --model package.module:factory, or --checkpoint FILE")
    digest = None
    if checkpoint is not None:
        model, digest = _load_checkpoint(model, checkpoint, trust_checkpoint)
    assert model is not None
    model.eval()
    if transform is None:
        transform = _transform_of(weight_enum)
    return LoadedModel(
        model=model,
        name=name,
        weights=str(weight_enum) if weight_enum is not None else "none",
        checkpoint=str(checkpoint) if checkpoint else None,
        num_classes=num_classes or _infer_num_classes(model),
        class_names=list(weight_enum.meta["categories"]) if weight_enum is not None else None,
        transform=transform,
        checkpoint_sha256=digest,
    )


def _transform_of(weights: Any) -> TransformSpec:
    """The weights' own preprocessing, else ImageNet's 256/224 defaults."""
    if weights is None:
        return TransformSpec()
    preset = weights.transforms()
    return TransformSpec(
        resize=int(preset.resize_size[0]),
        crop=int(preset.crop_size[0]),
        mean=tuple(float(v) for v in preset.mean),
        std=tuple(float(v) for v in preset.std),
        interpolation=preset.interpolation.value,
    )
