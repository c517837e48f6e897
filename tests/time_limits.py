"""A guard for tests of calls that must not block (a FIFO, a held lock): a hang fails, not stalls, the suite."""

from __future__ import annotations

import signal


def fail_after(seconds: int) -> None:
    """Raise TimeoutError in the test if it is still running ``seconds`` from now (SIGALRM, main thread)."""

    def alarm(*_: object) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
