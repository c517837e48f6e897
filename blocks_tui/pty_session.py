"""Run a program in a real pseudo-terminal, type into it, and record every byte it writes.

A headless Pilot never sees what reaches a user's terminal: Sixel and Kitty
graphics go around Textual's compositor, and escape sequences hidden in
data only matter once they are written to a tty.  A :class:`PtySession`
gives the program a real pty of a chosen size (in cells and in pixels, so
that image code sizes pictures as it would in a terminal), keeps every
chunk it writes with the time it arrived, and can play a terminal's part
in the start-up dialogue: ``answers`` maps a query the program sends (e.g.
the Primary Device Attributes request ``ESC [ c``) to the reply a real
terminal would give.  The tests and ``blocks-tui bench ui`` both use it.
Standard library only, POSIX only.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

KEYS: dict[str, bytes] = {
    "escape": b"\x1b", "enter": b"\r", "tab": b"\t", "backspace": b"\x7f",
    "up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D",
}

# What the main image protocols look like on the wire.
SIXEL_IMAGE = re.compile(rb"\x1bP[0-9;]*q")
KITTY_GRAPHICS = re.compile(rb"\x1b_G")


@dataclass
class Recording:
    """Everything a program wrote to its terminal, chunk by chunk, and when each key was sent."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    keys: list[tuple[float, str]] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    def since(self, t: float) -> bytes:
        """The bytes written at or after monotonic time ``t``."""
        return b"".join(chunk for at, chunk in self.chunks if at >= t)


class PtySession:
    """``argv`` running on a pty of ``size`` cells (``cell`` pixels each), recorded.

    Use as a context manager; ``close()`` (or leaving the block) ends the
    program if it has not quit by itself.
    """

    def __init__(self, argv: Sequence[str], size: tuple[int, int] = (120, 40), cell: tuple[int, int] = (10, 20),
                 env: Mapping[str, str] | None = None, answers: Mapping[bytes, bytes] | None = None,
                 cwd: str | None = None) -> None:
        self.argv = list(argv)
        self.size = size
        self.cell = cell
        self.env = dict(os.environ if env is None else env)
        self.answers = dict(answers or {})
        self.cwd = cwd
        self.recording = Recording()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._reader: threading.Thread | None = None
        self._pending = b""  # unanswered tail of the output, for queries split over two reads

    # -- life cycle -------------------------------------------------------------
    def __enter__(self) -> PtySession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        master, slave = os.openpty()
        columns, rows = self.size
        winsize = struct.pack("HHHH", rows, columns, columns * self.cell[0], rows * self.cell[1])
        fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize)
        self._master = master
        self._process = subprocess.Popen(
            self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, cwd=self.cwd,
            start_new_session=True, close_fds=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def close(self, timeout: float = 10.0) -> int | None:
        """Wait up to ``timeout`` s for the program to exit, then kill its process group; its exit code."""
        process = self._process
        if process is None:
            return None
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        return process.returncode

    @property
    def pid(self) -> int | None:
        """The program's process id, once started (for what the benchmarks read of it in /proc)."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    # -- talking to it ------------------------------------------------------------
    def send(self, key: str) -> float:
        """Type ``key`` (a character, or a name in :data:`KEYS`); the monotonic time it was sent."""
        data = KEYS.get(key, key.encode())
        at = time.monotonic()
        with self._lock:
            self.recording.keys.append((at, key))
        os.write(self._master, data)
        return at

    def resize(self, columns: int, rows: int) -> None:
        """Change the pty's size, as a user dragging the window would (the program gets SIGWINCH)."""
        self.size = (columns, rows)
        winsize = struct.pack("HHHH", rows, columns, columns * self.cell[0], rows * self.cell[1])
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, winsize)
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGWINCH)
            except ProcessLookupError:
                pass

    def wait_for(self, condition: Callable[[bytes], bool] | bytes | re.Pattern[bytes], timeout: float = 15.0,
                 since: float = 0.0) -> bool:
        """Wait until the output written since ``since`` satisfies ``condition``; False on timeout or exit."""
        if isinstance(condition, bytes):
            needle = condition
            condition = lambda data: needle in data  # noqa: E731
        elif isinstance(condition, re.Pattern):
            pattern = condition
            condition = lambda data: pattern.search(data) is not None  # noqa: E731
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                data = self.recording.since(since)
            if condition(data):
                return True
            if self.returncode is not None and not self._reader_alive():
                return False
            time.sleep(0.01)
        return False

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 10.0, since: float | None = None) -> float:
        """Wait until nothing has been written for ``quiet`` s; the time of the last chunk.

        With ``since`` (e.g. the time a key was sent), first wait for output
        written after it, so that an answer not begun yet is not taken for quiet.
        """
        deadline = time.monotonic() + timeout
        if since is not None:
            self.wait_for(lambda data: len(data) > 0, timeout=timeout, since=since)
        last = 0.0
        while time.monotonic() < deadline:
            with self._lock:
                last = self.recording.chunks[-1][0] if self.recording.chunks else 0.0
            if time.monotonic() - last >= quiet:
                return last
            time.sleep(0.01)
        return last

    def press(self, key: str, quiet: float = 0.3, timeout: float = 10.0) -> tuple[float, float, bytes]:
        """Type ``key`` and wait for the whole answer: (time sent, time of its last byte, the bytes).

        The answer has ended once the output rests for ``quiet`` s; a key
        that gets no answer within ``timeout`` s returns empty bytes.
        """
        sent = self.send(key)
        if not self.wait_for(lambda data: len(data) > 0, timeout=timeout, since=sent):
            return sent, sent, b""
        last = self.wait_quiet(quiet, timeout)
        with self._lock:
            return sent, last, self.recording.since(sent)

    # -- the reader thread ------------------------------------------------------
    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not ready:
                if self._process is not None and self._process.poll() is not None:
                    # drain whatever is left, then stop
                    try:
                        while select.select([self._master], [], [], 0)[0]:
                            chunk = os.read(self._master, 65536)
                            if not chunk:
                                return
                            self._keep(chunk)
                    except OSError:
                        pass
                    return
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the program closed the pty
                return
            if not chunk:
                return
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        with self._lock:
            self.recording.chunks.append((time.monotonic(), chunk))
        if not self.answers:
            return
        self._pending = (self._pending + chunk)[-4096:]
        while True:  # answer in the order the queries were sent, as a terminal does
            found = [(self._pending.find(q), q) for q in self.answers if q in self._pending]
            if not found:
                return
            at, query = min(found)
            self._pending = self._pending[at + len(query):]
            try:
                os.write(self._master, self.answers[query])
            except OSError:
                return
