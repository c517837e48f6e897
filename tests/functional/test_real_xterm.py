"""End to end in a real terminal emulator: xterm as a VT340 (Sixel) on a virtual X screen.

The pty tests prove what bytes the viewer writes; only a real terminal
proves that they become a picture.  This test starts Xvfb and xterm, runs
``blocks-tui view --images auto`` inside it (xterm answers the probe and
says it has Sixel), types keys with xdotool, and reads the screen with
ImageMagick's ``import``: after ``o`` the tile is a picture, and after
moving to a cell with no samples the same cells are plain background
again.  ``.ci/run`` installs xvfb, xterm, xdotool and imagemagick; where
they are missing the test says so and skips.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

NEEDED = ("Xvfb", "xterm", "xdotool", "import", "script")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs {', '.join(MISSING)} (Debian: xvfb xterm xdotool imagemagick); .ci/run installs them")

SIXEL_AT = re.compile(rb"\x1b\[(\d+);(\d+)H\x1bP[0-9;]*q\"1;1;(\d+);(\d+)")


class XtermScreen:
    """Xvfb with one xterm (VT340, 256 colour registers) running ``command``, recorded with ``script``."""

    def __init__(self, command: list[str], folder: Path) -> None:
        self.folder = folder
        self.bytes_file = folder / "tty.bytes"
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten",
                                      "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            self.display = ":" + pipe.readline().strip()
        self.env = {**os.environ, "DISPLAY": self.display}
        recorded = f"script -q -f -c {shlex.quote('env TERM=xterm-256color ' + shlex.join(command))} " \
                   f"{shlex.quote(str(self.bytes_file))}"
        self.xterm = subprocess.Popen(
            ["xterm", "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256",
             "-geometry", "160x50", "-fa", "Monospace", "-fs", "10", "-e", "bash", "-c", recorded],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def recorded(self) -> bytes:
        return self.bytes_file.read_bytes() if self.bytes_file.exists() else b""

    def wait_for(self, needle: bytes, timeout: float = 60, since: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.recorded()[since:]:
                return True
            time.sleep(0.2)
        return False

    def key(self, *keys: str) -> None:
        window = subprocess.run(["xdotool", "search", "--class", "xterm"], env=self.env, capture_output=True,
                                text=True).stdout.split()
        if window:
            subprocess.run(["xdotool", "windowfocus", window[0]], env=self.env, capture_output=True)
        for key in keys:
            subprocess.run(["xdotool", "key", key], env=self.env, check=True)
            time.sleep(0.3)

    def screenshot(self, name: str) -> np.ndarray:
        path = self.folder / f"{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True)
        return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)

    def close(self) -> None:
        # ``script`` starts the viewer in a session of its own, which killing xterm's group does not reach:
        # without this, every run left a viewer and its ``script`` running.
        for pid in _descendants(self.xterm.pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        for process in (self.xterm, self.xvfb):
            try:
                os.killpg(process.pid, 9) if process is self.xterm else process.kill()
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # after the command name, which may hold spaces
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_xterm_shows_a_sixel_thumbnail_and_clears_it(demo_cache: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "blocks_tui", "view", str(demo_cache), "--images", "auto"]
    screen = XtermScreen(command, tmp_path)
    try:
        assert screen.wait_for(b"Blocks", timeout=90), "the viewer did not start in xterm"
        time.sleep(2)
        screen.key("o")
        assert screen.wait_for(b"\x1bP", timeout=30), "auto did not pick Sixel in xterm, or no picture was sent"
        time.sleep(2)
        shown = screen.screenshot("picture")
        row, column, width, height = map(int, SIXEL_AT.findall(screen.recorded())[-1])
        # The text area starts at xterm's 2-pixel inner border; cells are 10×20 pixels at this font size.
        cell_w, cell_h = 1600 // 160, 1000 // 50
        box = (slice(2 + (row - 1) * cell_h + height // 4, 2 + (row - 1) * cell_h + 3 * height // 4),
               slice(2 + (column - 1) * cell_w + width // 4, 2 + (column - 1) * cell_w + 3 * width // 4))
        assert shown[box].std() > 8, "the tile shows no picture"

        mark = len(screen.recorded())
        screen.key("Escape", "L", "L", "L")  # close the panel; walk into the block of the other top-level group
        assert screen.wait_for(b"0 samples", timeout=30, since=mark), "the walk did not reach an empty cell"
        time.sleep(2)
        cleared = screen.screenshot("cleared")
        assert cleared[box].std() < 1, "a picture was left behind on an empty selection"
    finally:
        screen.close()
