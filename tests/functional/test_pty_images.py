"""The viewer on a real pseudo-terminal: what each image mode actually writes, and what ``auto`` picks.

Pilot draws through Textual's headless driver, which never sees Sixel or
Kitty graphics (they bypass the compositor).  Here the real ``blocks-tui
view`` runs on a pty and every byte it writes is recorded; the fake
terminal on the other side answers the start-up probe as xterm, kitty or
a plain terminal would.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from blocks_tui.pty_session import KITTY_GRAPHICS, SIXEL_IMAGE, PtySession
from blocks_tui.tui.images import QUERIES, TerminalReport, decide

XTERM_VT340 = {b"\x1b[c": b"\x1b[?63;1;2;4;6;9;15;16;22;28;29c", b"\x1b[>0q": b"\x1bP>|XTerm(379)\x1b\\"}
KITTY_0_26 = {b"\x1b[c": b"\x1b[?62;c", b"\x1b[>0q": b"\x1bP>|kitty(0.26.5)\x1b\\",
              b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\": b"\x1b_Gi=31;OK\x1b\\"}
PLAIN = {b"\x1b[c": b"\x1b[?1;2c"}  # a VT100: answers DA1 and nothing else


def viewer(cache: Path, images: str, answers: dict[bytes, bytes] | None = None,
           env: dict[str, str] | None = None) -> PtySession:
    environ = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "COLORTERM": "truecolor", "HOME": str(cache.parent)}
    environ.update(env or {})
    return PtySession([sys.executable, "-m", "blocks_tui", "view", str(cache), "--images", images],
                      size=(120, 40), cell=(10, 20), env=environ, answers=answers)


def open_outliers(session: PtySession) -> float:
    """Wait for the first frame, press ``o`` (the outlier panel: the pane shows the top pair's samples)."""
    assert session.wait_for(b"Blocks", timeout=60), session.recording.data[-2000:]
    session.wait_quiet(0.5)
    return session.send("o")


def quit_viewer(session: PtySession) -> None:
    session.wait_quiet(0.3)
    session.send("q")
    assert session.close(timeout=20) == 0


@pytest.mark.parametrize("mode, pattern", [("sixel", SIXEL_IMAGE), ("tgp", KITTY_GRAPHICS), ("kitty", KITTY_GRAPHICS)])
def test_graphics_modes_write_pictures_and_a_new_one_for_a_new_selection(demo_cache: Path, mode: str,
                                                                          pattern) -> None:  # noqa: ANN001
    with viewer(demo_cache, mode) as session:
        pressed = open_outliers(session)
        assert session.wait_for(pattern, timeout=20, since=pressed), f"no {mode} picture after o"
        session.wait_quiet(0.5)
        moved = session.send("j")  # the next outlier row: other samples in the pane
        assert session.wait_for(pattern, timeout=20, since=moved), f"no new {mode} picture after j"
        quit_viewer(session)
    data = session.recording.data
    if mode != "sixel":
        assert b"a=t,f=100" in data  # pictures are transmitted as PNG
        assert b"a=p," in data and b"C=1" in data  # and placed directly, without moving the cursor
        assert b"U=1" not in data  # never through Unicode placeholders, which kitty < 0.28 cannot show
        assert b"\xf4\x8e\xbb\xae" not in data  # U+10EEEE, the placeholder character itself
        assert data.rfind(b"d=I") > data.rfind(b"a=p,"), "quitting must free every picture"


@pytest.mark.parametrize("mode", ["halfcell", "off"])
def test_character_modes_write_no_graphics(demo_cache: Path, mode: str) -> None:
    with viewer(demo_cache, mode) as session:
        open_outliers(session)
        session.wait_quiet(0.8)
        quit_viewer(session)
    data = session.recording.data
    assert not SIXEL_IMAGE.search(data) and not KITTY_GRAPHICS.search(data)
    assert b"missil" in data  # the pane did show the outlier's tile, as characters


@pytest.mark.parametrize("answers, env, expected", [
    (XTERM_VT340, {}, SIXEL_IMAGE),
    (KITTY_0_26, {}, KITTY_GRAPHICS),
    (PLAIN, {}, None),
    (XTERM_VT340, {"TMUX": "/tmp/tmux-0/default,1,0"}, None),  # tmux: half cells without asking
])
def test_auto_picks_what_the_terminal_says_it_shows(demo_cache: Path, answers, env, expected) -> None:  # noqa: ANN001
    with viewer(demo_cache, "auto", answers=answers, env=env) as session:
        pressed = open_outliers(session)
        if expected is not None:
            assert session.wait_for(expected, timeout=20, since=pressed)
        else:
            session.wait_quiet(0.8)
        quit_viewer(session)
    data = session.recording.data
    for pattern in (SIXEL_IMAGE, KITTY_GRAPHICS):
        if pattern is not expected:
            found = pattern.findall(data)
            # the probe's own Kitty query is not a picture
            assert len(found) == (1 if pattern is KITTY_GRAPHICS and "TMUX" not in env else 0), pattern
    assert (QUERIES.encode() in data) == ("TMUX" not in env)  # inside tmux nothing is asked


def test_a_silent_terminal_costs_at_most_the_probe_timeout(demo_cache: Path) -> None:
    """A terminal that answers nothing at all (not even DA1): the probe gives up within 0.3 s."""
    with viewer(demo_cache, "auto", answers={}) as session:
        assert session.wait_for(QUERIES.encode(), timeout=60)
        asked = time.monotonic()
        assert session.wait_for(b"Blocks", timeout=60)
        first_frame = time.monotonic()
        session.wait_quiet(0.5)
        quit_viewer(session)
    # The frame follows the probe's time-out and Textual's start; the probe itself is bounded.
    assert first_frame - asked < 5.0
    assert not SIXEL_IMAGE.search(session.recording.data)


def test_terminal_reports_are_parsed_and_decided() -> None:
    assert decide(TerminalReport.parse(b"".join(XTERM_VT340.values()))) == ("sixel", "XTerm reports Sixel")
    mode, reason = decide(TerminalReport.parse(b"".join(KITTY_0_26.values())))
    assert mode == "tgp" and reason.startswith("kitty")
    assert decide(TerminalReport.parse(b"\x1b[?1;2c"))[0] == "halfcell"
    assert decide(TerminalReport.parse(b""))[1] == "the terminal did not answer"
    wezterm = TerminalReport.parse(b"\x1bP>|WezTerm 20240203\x1b\\\x1b_Gi=31;OK\x1b\\\x1b[?65;4;6;18;22c")
    assert decide(wezterm)[0] == "sixel"  # both protocols: Sixel, which WezTerm draws more faithfully
    ghostty = TerminalReport.parse(b"\x1bP>|ghostty 1.1.0\x1b\\\x1b_Gi=31;OK\x1b\\\x1b[?62;22c")
    assert decide(ghostty)[0] == "tgp"
    assert TerminalReport.parse(b"\x1b[4;1000;1600t").pixels == (1600, 1000)


def test_the_help_screen_says_which_picture_mode_is_in_use_and_why(demo_cache: Path) -> None:
    with viewer(demo_cache, "auto", answers=XTERM_VT340) as session:
        assert session.wait_for(b"Blocks", timeout=60)
        session.wait_quiet(0.5)
        shown = session.send("?")
        assert session.wait_for(b"Thumbnails:", timeout=20, since=shown)
        session.wait_quiet(0.3)
        session.send("?")  # closes it again (a lone Escape followed by q would read as alt+q)
        quit_viewer(session)
    assert b"Sixel (XTerm reports Sixel, cells 10\xc3\x9720 px)" in session.recording.since(shown)


@pytest.mark.parametrize("mode, pattern", [("sixel", SIXEL_IMAGE), ("tgp", re.compile(rb"\x1b\[(\d+);(\d+)H\x1b_Ga=p"))])
def test_a_resize_places_the_pictures_again(demo_cache: Path, mode: str, pattern) -> None:  # noqa: ANN001
    with viewer(demo_cache, mode) as session:
        pressed = open_outliers(session)
        assert session.wait_for(pattern, timeout=20, since=pressed)
        session.wait_quiet(0.5)
        before = pattern.findall(session.recording.since(pressed))[-1]
        resized = time.monotonic()
        session.resize(150, 40)  # wider: the pane moves right without changing size
        assert session.wait_for(pattern, timeout=20, since=resized), f"no {mode} picture after the resize"
        session.wait_quiet(0.5)
        after = pattern.findall(session.recording.since(resized))[-1]
        quit_viewer(session)
    if mode == "tgp":
        assert int(after[1]) == int(before[1]) + 30  # the same row, 30 columns further right


def test_the_probe_gives_up_after_its_timeout_on_a_silent_terminal() -> None:
    """Nobody answers on the other side of the pty: the probe returns within PROBE_TIMEOUT, empty-handed."""
    import os

    from blocks_tui.tui.images import PROBE_TIMEOUT, query_terminal

    master, slave = os.openpty()
    try:
        started = time.monotonic()
        answer = query_terminal(slave, slave)
        elapsed = time.monotonic() - started
        sent = os.read(master, 4096)
    finally:
        os.close(master)
        os.close(slave)
    assert answer == b"" and sent == QUERIES.encode()
    assert PROBE_TIMEOUT <= elapsed < PROBE_TIMEOUT + 0.1
