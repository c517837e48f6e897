"""The synthetic cache a benchmark runs on: written once, then reused from the cache folder."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from ...safe_text import plain


def synthetic_cache(path: Path, classes: int, samples: int, channels: tuple[int, ...], console: Console) -> Path:
    """``path``, written first (seed 0, saying so on ``console``) when it does not exist yet."""
    from ...synthetic.scale import generate, write_synthetic_cache

    if not path.exists():
        console.print(plain(f"Writing {path} ({samples:,} samples, {classes:,} classes) once..."))
        write_synthetic_cache(path, generate(classes, samples, channels, seed=0), seed=0)
    return path
