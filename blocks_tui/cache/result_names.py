"""Result-set names: which set is the default, and how probes, epochs and variants are named.

Producers write these names (the demo, ``extract``, ``train``, ``probe``) and
readers interpret them (the CLI, the viewer, the analysis), so each rule lives
here once instead of in every caller.  Pure Python, no h5py.  It sits in
``cache`` because the names are part of the file format and ``cache`` may not
import ``analysis``; every layer above imports it from here.

The names:

* ``original`` — the model on the images as they are; the default set.
* variants — the same images transformed before the forward pass
  (``grayscale``, ``rot90``, ...; see :data:`VARIANTS`), one set each.
* ``epoch-N`` — a checkpoint after epoch N; ``S:epoch-N`` the same for the
  model series ``S`` (``blocks-tui train`` writes ``baseline:epoch-N``), whose
  final model is the set ``S`` itself (``original`` for the unnamed series).
* ``probe:<layer>`` — the held-out predictions of a linear probe on a layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..safe_text import printable
from .schema import PROBE_RESULT_PREFIX

ORIGINAL = "original"
"""The model on unchanged images, and the set every view starts from when it is present."""

VARIANTS = (ORIGINAL, "grayscale", "rot90", "rot180", "rot270", "hflip")
"""The transforms ``extract --variants`` knows; each names the result set it makes."""

PROBE_PREFIX = PROBE_RESULT_PREFIX
"""``probe:`` — what a probe result set's name starts with (the schema records it too)."""

_EPOCH = re.compile(r"^epoch-(\d+)$")


def default_result(names: Sequence[str]) -> str:
    """The set shown when none is asked for: ``original`` if present, else the first."""
    return ORIGINAL if ORIGINAL in names else names[0]


def default_output(names: Sequence[str]) -> str | None:
    """The model's own output beside the probes: ``original`` if present, else the first set
    that is not a probe, else None."""
    if ORIGINAL in names:
        return ORIGINAL
    return next((name for name in names if not is_probe(name)), None)


def check_result(names: Sequence[str], name: str, where: Path | str) -> str:
    """``name`` when the cache at ``where`` has it; else a UsageError that lists the sets it has."""
    if name not in names:
        known = ", ".join(printable(n, 200) for n in names)
        raise UsageError(f"no result set {printable(name, 200)!r} in {printable(where)}; it has {known}")
    return name


def probe_name(layer: str) -> str:
    """The result set of ``layer``'s probe: ``probe:<layer>``."""
    return f"{PROBE_PREFIX}{layer}"


def is_probe(name: str) -> bool:
    """Whether ``name`` holds a probe's predictions rather than a model's."""
    return name.startswith(PROBE_PREFIX)


def probe_layer(name: str) -> str:
    """The layer a ``probe:<layer>`` set probed (``name`` unchanged when it is not a probe)."""
    return name.removeprefix(PROBE_PREFIX)


def series_prefix(series: str) -> str:
    """What the epoch sets of ``series`` start with: ``S:``, or nothing for the unnamed series."""
    return f"{series}:" if series else ""


def series_final(series: str) -> str:
    """The set that holds the final model of ``series``: ``S`` itself, or ``original``."""
    return series or ORIGINAL


def epoch_name(epoch: int | str, series: str = "") -> str:
    """``epoch-N`` (or ``S:epoch-N``): the set of the checkpoint after epoch ``epoch``."""
    return f"{series_prefix(series)}epoch-{epoch}"


def parse_epoch(name: str, series: str = "") -> int | None:
    """N when ``name`` is ``epoch-N`` of ``series`` (``S:epoch-N``), else None."""
    prefix = series_prefix(series)
    match = _EPOCH.match(name[len(prefix):]) if name.startswith(prefix) else None
    return int(match.group(1)) if match else None


def is_variant(name: str) -> bool:
    """Whether ``name`` is a transform ``extract --variants`` knows (``original`` included)."""
    return name in VARIANTS


def is_transformed(attrs: Mapping[str, Any]) -> bool:
    """Whether a set's attributes name an input transform other than ``original`` (grayscale, rot90, ...).

    Epochs and other models on unchanged images record ``original`` (or no
    transform at all), and linear probes record ``probe``: none of them is.
    """
    transform = str(attrs.get("transform", ORIGINAL))
    return transform != ORIGINAL and is_variant(transform)
