"""Numbers as the viewer, the reports and the command line show them: an undefined value reads ``–``.

A group metric is undefined where its denominator is zero (precision of a
group nothing was predicted into, recall of an empty group); NaN printed as
``nan%`` reads as a bug, and 0% would be a lie.
"""

from __future__ import annotations

import math

UNDEFINED = "–"


def percent(value: float | None, digits: int = 1, sign: bool = False) -> str:
    """``value`` (a share in [0, 1]) as ``81.2%``; ``–`` when it is None or not finite."""
    if value is None or not math.isfinite(value):
        return UNDEFINED
    return f"{100 * value:{'+' if sign else ''}.{digits}f}%"


def metrics_line(precision: float, recall: float, f1: float, gap: str = " ") -> str:
    """``P 81.0% R 77.2% F1 79.1%``, each ``–`` where undefined."""
    return gap.join((f"P {percent(precision)}", f"R {percent(recall)}", f"F1 {percent(f1)}"))
