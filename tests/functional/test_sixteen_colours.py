"""16-colour terminals (TERM=xterm, vt340, a bare console): the matrix's scale, shading and bands stay apart."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rich.color import ColorSystem

from blocks_tui.analysis.view_frame import BLOCK, EMPTY, FN_BAND, FP_BAND, LEVEL0, NODE_BLOCK
from blocks_tui.pty_session import PtySession
from blocks_tui.tui.palette import palette_for, response_palette

MEANINGS = [EMPTY, BLOCK, FN_BAND, FP_BAND, NODE_BLOCK]


def as_sixteen(palette, codes: list[int]) -> list[int]:  # noqa: ANN001
    """The standard colour each code becomes on a 16-colour terminal."""
    return [palette.colors[code].downgrade(ColorSystem.STANDARD).number for code in codes]


def test_every_code_keeps_its_own_colour_in_sixteen_colours() -> None:
    palette = palette_for("standard")
    codes = MEANINGS + list(range(LEVEL0, LEVEL0 + palette.n_levels))
    shown = as_sixteen(palette, codes)
    assert len(set(shown)) == len(shown), shown  # background, block, bands and every scale step differ
    assert shown[:5] == [0, 8, 4, 2, 6]  # black, grey, blue, green, cyan
    responses = response_palette("standard")
    levels = as_sixteen(responses, list(range(LEVEL0, LEVEL0 + responses.n_levels)))
    assert responses.n_levels == 17  # as many steps as the response map draws (16 below T, 1 at or above)
    below = list(dict.fromkeys(levels[:-1]))
    assert below == [0, 4, 12, 6, 14, 7, 15] and levels[-1] == 11  # blues to white in order, then bright yellow


def test_the_256_colour_table_is_what_collapsed() -> None:
    """Why a table of its own: rounded to 16 colours, the 256-colour one loses the block shading and most steps."""
    palette = palette_for("256")
    shown = as_sixteen(palette, MEANINGS + list(range(LEVEL0, LEVEL0 + palette.n_levels)))
    assert shown[0] == shown[1]  # a child block is as black as the background
    assert len(set(shown[5:])) <= 4


def test_the_viewer_on_a_sixteen_colour_terminal_writes_only_standard_colours(tiny_cache: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tiny_cache.parent)}  # no COLORTERM
    with PtySession([sys.executable, "-m", "blocks_tui", "view", str(tiny_cache), "--images", "halfcell"],
                    size=(120, 40), env=env) as session:
        assert session.wait_for(b"Blocks", timeout=60)
        session.wait_quiet(0.5)
        shown = session.send("tab")  # the response map, in its own 16-colour table
        assert session.wait_for(b"stage1", timeout=20, since=shown)
        session.wait_quiet(0.5)
        session.send("q")
        assert session.close(timeout=20) == 0
    data = session.recording.data
    assert not re.search(rb"\x1b\[[0-9;]*[34]8;[25];", data)  # no 256-colour or truecolor codes at all
    assert b"100m" in data or b";100m" in data  # bright black: the child blocks' shading is drawn


def test_no_color_terminals_get_every_view_without_a_crash(tiny_cache: Path) -> None:
    """NO_COLOR makes Textual filter every segment to monochrome, and a segment without a style crashed it
    (the response map's loading line did)."""
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "NO_COLOR": "1", "HOME": str(tiny_cache.parent)}
    with PtySession([sys.executable, "-m", "blocks_tui", "view", str(tiny_cache), "--images", "halfcell"],
                    size=(120, 40), env=env) as session:
        assert session.wait_for(b"Blocks", timeout=60)
        for key, shows in (("o", b"Block outliers"), ("tab", b"stage1"), ("?", b"blocks-tui keys")):
            session.wait_quiet(0.4)
            at = session.send(key)
            assert session.wait_for(shows, timeout=20, since=at), key
        session.wait_quiet(0.4)
        session.send("?")
        session.wait_quiet(0.4)
        session.send("q")
        assert session.close(timeout=20) == 0
    assert b"Traceback" not in session.recording.data
