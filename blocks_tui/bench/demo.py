"""``blocks-tui bench demo``: the whole demo, timed, and what it planted, measured.

Builds the demo in a temporary folder (generate, train, evaluate, write) and
reads the planted properties back with :func:`~blocks_tui.demo.checks.planted_checks`,
the same function the test suite runs on the fast configuration, so the
README's figures and the tests cannot drift.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache import open_cache
from ..demo.checks import PlantedCheck, planted_checks
from ..demo.pipeline import DemoConfig, build_demo_cache

GOAL_SECONDS = 90.0
"""The whole demo on two CPU cores, from nothing to a written cache."""


@dataclass(frozen=True)
class DemoBench:
    seconds: float
    checks: list[PlantedCheck]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and self.seconds <= GOAL_SECONDS


def bench_demo(config: DemoConfig) -> DemoBench:
    """Build the demo with ``config`` in a temporary folder (with a progress bar) and check it."""
    with tempfile.TemporaryDirectory(prefix="blocks-demo-") as tmp:
        started = time.perf_counter()
        path = build_demo_cache(Path(tmp) / "demo.h5", config, progress=True)
        seconds = time.perf_counter() - started
        with open_cache(path) as cache:
            return DemoBench(seconds, planted_checks(cache))
