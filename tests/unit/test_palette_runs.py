"""A frame's colour runs, found for every line at once, draw exactly the cells they were given."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis.view_frame import EMPTY
from blocks_tui.tui import palette as palette_module
from blocks_tui.tui.palette import palette_for, response_palette


def _cells(strip) -> list[tuple[str, object]]:
    """(character, style) of every cell of a strip, whatever its segments."""
    return [(ch, seg.style) for seg in strip for ch in seg.text]


def _expected(palette, line: np.ndarray, width: int) -> list[tuple[str, object]]:
    padded = list(line[:width]) + [EMPTY * palette.size + EMPTY] * max(0, width - len(line))
    return [palette.cell(int(p)) for p in padded]


@pytest.mark.parametrize("width", [1, 37, 60, 90])
def test_every_line_draws_its_cells_in_runs(width: int) -> None:
    palette = response_palette("truecolor")
    rng = np.random.default_rng(3)
    # long equal stretches and single cells, as in a response map
    pairs = rng.integers(0, palette.size ** 2, (7, 60)).repeat(rng.integers(1, 4, 60), axis=1)[:, :60]
    pairs[2] = pairs[2, 0]  # one line of a single run
    runs = palette.runs(pairs, width)
    for y in range(pairs.shape[0]):
        strip = runs.strip(y)
        assert strip.cell_length == width
        assert _cells(strip) == _expected(palette, pairs[y], width)
        # equal neighbours merged: no two adjacent segments share a style and character
        keys = [(seg.text[0], seg.style) for seg in strip]
        assert all(a != b for a, b in zip(keys, keys[1:]))
    assert len(list(runs.strip(2))) == (1 if width <= 60 else 2)


def test_one_line_strip_is_the_same_as_the_frames() -> None:
    palette = palette_for("256")
    pairs = np.arange(40, dtype=np.int32).reshape(2, 20) % 5
    frame = palette.runs(pairs, 25)
    for y in range(2):
        assert _cells(palette.strip(pairs[y], 25)) == _cells(frame.strip(y))


def test_segments_are_shared_between_frames_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    palette = palette_for("truecolor")
    pairs = np.zeros((2, 10), dtype=np.int32)
    first, second = palette.runs(pairs, 10).strip(0), palette.runs(pairs, 10).strip(1)
    assert list(first)[0] is list(second)[0]
    monkeypatch.setattr(palette_module, "MAX_SEGMENTS", 8)
    line = np.arange(20, dtype=np.int32)[None, :]  # twenty runs, none alike
    strip = palette.runs(line, 20).strip(0)
    assert len(palette._segments) <= 8  # cleared rather than grown past its bound
    assert _cells(strip) == _expected(palette, line[0], 20)
