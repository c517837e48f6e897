"""Table cells shared by the reports: byte sizes, scores, and a value that may be missing."""

from __future__ import annotations

from rich.text import Text

from ..numbers import UNDEFINED


def byte_size(n: float) -> str:
    """``n`` bytes in B, KiB, MiB or GiB, whichever reads best."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def score(value: float | None) -> Text:
    """A 0–1 score as a percentage, red to green, or a dash when undefined."""
    if value is None or value != value:  # None or NaN: undefined (an empty group's recall)
        return Text(UNDEFINED, style="dim")
    style = "green" if value >= 0.9 else "yellow" if value >= 0.7 else "red"
    return Text(f"{100 * value:5.1f}", style=style)


def maybe(value: object | None) -> str:
    """A value, or ``-`` where there is none (an epoch that never came)."""
    return "-" if value is None else str(value)
