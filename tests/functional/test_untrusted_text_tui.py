"""The viewer on a real pty over a cache whose every string is hostile (issue 14.3): the bytes it sends hold
no OSC (title, clipboard, hyperlink), no BEL and no ESC but its own sequences, Rich markup in names is shown
literally instead of crashing the triage table, and the escaped text is what the user sees."""

from __future__ import annotations

import re
import sys
import time

import pytest
from rich.cells import cell_len

from blocks_tui.pty_session import PtySession
from test_untrusted_text import write_hostile_cache

COLUMNS, ROWS = 160, 50
SAMPLE_PANE_WIDTH = 31  # #selection in blocks.tcss: the rightmost columns of the main screen

# Textual's own OSC: the mouse pointer's shape (OSC 22).  Nothing else may start an OSC.
OWN_OSC = re.compile(rb"\x1b\]22;[a-z-]*\x07")
_TOKEN = re.compile(rb"\x1b\[([0-9;?<>=]*)[ -/]*([@-~])|\r|\n|\x1b|\x07|[^\x1b\x07\r\n]+")


def hostile_bytes_at(data: bytes) -> list[tuple[int, int, bytes]]:
    """(row, column, the bytes there) of every ESC or BEL that does not start one of the program's own CSI
    or OSC 22 sequences, following the cursor through CSI H moves, CR, LF and the cells of the text."""
    found, row, col = [], 1, 1
    data = OWN_OSC.sub(b"", data)
    for m in _TOKEN.finditer(data):
        chunk = m.group()
        if m.group(2) == b"H":
            parts = m.group(1).split(b";")
            row, col = int(parts[0] or 1), int(parts[1] if len(parts) > 1 and parts[1] else 1)
        elif chunk in (b"\x1b", b"\x07"):
            found.append((row, col, data[m.start():m.start() + 24]))
        elif chunk == b"\r":
            col = 1
        elif chunk == b"\n":
            row += 1
        elif m.group(2) is None:
            col += cell_len(chunk.decode("utf-8", "replace"))
    return found


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int | None]:
    """One session over the hostile cache, through every place that shows names, sources or notes."""
    cache = write_hostile_cache(tmp_path_factory.mktemp("hostile-view") / "hostile.h5")
    argv = [sys.executable, "-m", "blocks_tui", "view", str(cache), "--images", "halfcell"]
    with PtySession(argv, size=(COLUMNS, ROWS), cwd=str(cache.parent)) as session:
        assert session.wait_for(b"Blocks", timeout=60)

        def press(*keys: str, until: bytes | None = None) -> None:
            for key in keys:
                at = session.send(key)
                if key == "escape":
                    time.sleep(0.2)  # a lone ESC, not the start of an Alt+key: Textual waits this long to tell
                if until is not None and key == keys[-1]:
                    assert session.wait_for(until, since=at, timeout=20), f"{key!r} never showed {until!r}"
                session.wait_quiet(0.25, timeout=5)

        press("tab", until=b"ZXZpbA==layer\\e]0;pwned")  # the response map: the layer's name, loading then title
        press("tab", "o", until=b"Block outliers")  # the triage panel: class pairs, common ancestor, a note
        press("j", "j", "e", until=b"Note for this row")  # the note dialog, filled with the saved note
        press("escape", "m", until=b"Mislabel candidates")  # sources, labels, top-5 names, a note
        press("j", "escape", "?", until=b"blocks-tui keys")  # help over the main screen
        press("escape", "/", "c", "a", until=b"class")  # find: names and ids as you type
        press("escape", "W", "j", "l", "j", "j")  # the tree: every node name, the header's zoom path
        press("enter", "f", until=b"Filter the matrix")  # zoomed; filter: result-set names in pickers
        press("escape", "C", until=b"Compare result sets")  # compare: result sets, node names
        press("escape", "w", "w", "X", until=b"Right/wrong across which result sets?")  # the result-set ticks
        press("escape", "q")
        code = session.close(timeout=20)
    return session.recording.data, code


def test_the_viewer_quits_normally_after_showing_every_hostile_name(recording: tuple[bytes, int | None]) -> None:
    data, code = recording
    assert code == 0, data[-2000:]  # a "[/]" in a name used to end the session with a MarkupError
    assert b"Traceback" not in data and b"MarkupError" not in data


def test_names_notes_and_attributes_are_shown_escaped(recording: tuple[bytes, int | None]) -> None:
    data, _ = recording
    shown = re.sub(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]", b"", OWN_OSC.sub(b"", data))
    assert b"\\e]52;c;ZXZpbA==\\x07all\\e]0;pwned\\x07[/][link=file:///etc/passwd]L[/link][@click=app.quit]Q[/]" \
        in shown  # the root's name in the header: every tag literal, nothing made a link or an action
    assert b"\\e]52;c;ZXZpbA==\\x07cat\\e]0;pwned\\x07[/][link=" in shown  # a triage row: no MarkupError
    assert b"\\e]52;c;ZXZpbA==\\x07vehicles\\e]0;pwned" in shown  # the compare table's node names
    assert b"\\e]52;c;ZXZpbA==layer\\e]0;pwned" in shown  # the response map (Rich's Text drops the BEL itself)
    ticks = shown[shown.rindex(b"Right/wrong across which result sets?"):]  # the X dialog, drawn last
    assert b"\\e]52;c;ZXZpbA==\\x07result\\e]0;pwned" in ticks  # its result-set names, every tag literal


def test_no_escape_sequence_from_the_data_reaches_the_terminal(recording: tuple[bytes, int | None]) -> None:
    data, _ = recording
    hostile = hostile_bytes_at(data)
    assert not hostile, f"raw ESC/BEL from the data at (row, column): {hostile[:5]}"
    assert b"\x1b]" not in OWN_OSC.sub(b"", data)
    assert b"\x07" not in OWN_OSC.sub(b"", data)
