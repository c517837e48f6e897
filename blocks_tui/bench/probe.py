"""``blocks-tui bench probe``: the scipy and the torch probe engines on the same layers, nothing written.

Both run in one process on the same cache (the CLI writes a synthetic one
once), so the seconds per layer and the held-out top-1 compare directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from rich.console import Console

from ..extract.probe import LayerProbe, ProbeSettings, run_probes_with_progress


def bench_probe(path: Path, layers: Sequence[str], engines: Sequence[ProbeSettings],
                console: Console) -> list[list[LayerProbe]]:
    """Probe the same layers with each engine in turn (nothing written); per engine, the per-layer results."""
    return [run_probes_with_progress(path, layers, settings, console, write=False) for settings in engines]
