"""Names cut to fit a few cells without two different names becoming the same text.

A caption of 6 cells cut ``class-00383`` and ``class-00384`` to ``class-``
alike, and ``missile``/``missiles`` to ``missil``.  Here a name that does
not fit keeps its head and its tail around a middle ellipsis (the tail is
where numbered and plural names differ), and names shown together are cut
where they differ (:func:`distinct_shortenings`).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Sequence

ELLIPSIS = "…"


def cell_len(text: str) -> int:
    """Terminal cells ``text`` takes: wide East Asian characters two, combining marks none (no rich here:
    the analysis layer uses this for its table cells and stays numpy-only)."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _head(text: str, cells: int) -> str:
    out, used = [], 0
    for ch in text:
        used += cell_len(ch)
        if used > cells:
            break
        out.append(ch)
    return "".join(out)


def _tail(text: str, cells: int) -> str:
    return _head(text[::-1], cells)[::-1]


def shorten(name: str, width: int, tail: int | None = None) -> str:
    """``name`` in at most ``width`` cells: whole when it fits, else ``head…tail`` with ``tail`` cells of its
    end (default: half the room, the larger half)."""
    if cell_len(name) <= width:
        return name
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    room = width - 1
    keep = room - room // 2 if tail is None else max(0, min(tail, room))
    return _head(name, room - keep) + ELLIPSIS + _tail(name, keep)


def distinct_shortenings(names: Sequence[str], widths: Sequence[int] | int) -> list[str]:
    """Each name shortened to its width (one width for all, or one each), and no two different names to the
    same text when a cut can tell them apart: a group that collides is cut again with the split (head and
    tail cells) that separates it, else around the first character where its names differ."""
    sizes = [widths] * len(names) if isinstance(widths, int) else list(widths)
    out = [shorten(n, w) for n, w in zip(names, sizes)]
    groups: dict[str, set[int]] = defaultdict(set)
    for i, text in enumerate(out):
        groups[text].add(i)
    for members in groups.values():
        if len({names[i] for i in members}) < 2:
            continue  # one name (maybe shown twice): nothing to tell apart
        order = sorted(members)
        room = min(sizes[i] for i in order) - 1
        for keep in sorted(range(room + 1), key=lambda t: (abs(t - (room - room // 2)), -t)):
            trial = {i: shorten(names[i], sizes[i], keep) for i in order}
            if len(set(trial.values())) == len({names[i] for i in order}):
                for i, text in trial.items():
                    out[i] = text
                break
        else:
            for i, text in _around_difference([names[i] for i in order], room).items():
                out[order[i]] = text
    return out


def _around_difference(names: list[str], room: int) -> dict[int, str]:
    """``…middle…`` windows starting a little before the first position where ``names`` differ."""
    first = next((p for p in range(min(map(len, names))) if len({n[p] for n in names}) > 1), 0)
    start = max(0, first - max(0, room - 2) // 2)
    return {i: ELLIPSIS + _head(n[start:], max(room - 1, 0)) + ELLIPSIS for i, n in enumerate(names)}
