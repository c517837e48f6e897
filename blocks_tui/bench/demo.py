"""``blocks-tui bench demo``: the whole demo, timed, and what it planted, measured.

Builds the demo in a temporary folder (generate, train, evaluate, write) and
reads the planted properties back with :func:`~blocks_tui.demo.checks.planted_checks`
(and how the response map's relevant neurons stand out with
:func:`~blocks_tui.demo.response_checks.group_contrasts`),
the same function the test suite runs on the fast configuration, so the
README's figures and the tests cannot drift.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache import open_cache
from ..analysis.response_view import DEFAULT_THRESHOLD
from ..demo.checks import PlantedCheck, planted_checks
from ..demo.pipeline import DemoConfig, build_demo_cache
from ..demo.response_checks import CONTRAST_GOAL, GroupContrast, group_contrasts

GOAL_SECONDS = 90.0
"""The whole demo on two CPU cores, from nothing to a written cache."""


@dataclass(frozen=True)
class DemoBench:
    seconds: float
    checks: list[PlantedCheck]
    contrasts: list[GroupContrast]  # every layer x every depth-1 and depth-2 group, at the default T

    @property
    def last_layer(self) -> list[GroupContrast]:
        """The contrasts of the layer nearest the classifier, where the goal applies."""
        last = self.contrasts[-1].layer if self.contrasts else None
        return [c for c in self.contrasts if c.layer == last]

    @property
    def passed(self) -> bool:
        return (all(c.passed for c in self.checks) and self.seconds <= GOAL_SECONDS
                and all(c.ratio >= CONTRAST_GOAL for c in self.last_layer))


def bench_demo(config: DemoConfig) -> DemoBench:
    """Build the demo with ``config`` in a temporary folder (with a progress bar) and check it."""
    with tempfile.TemporaryDirectory(prefix="blocks-demo-") as tmp:
        started = time.perf_counter()
        path = build_demo_cache(Path(tmp) / "demo.h5", config, progress=True)
        seconds = time.perf_counter() - started
        with open_cache(path) as cache:
            return DemoBench(seconds, planted_checks(cache), group_contrasts(cache, DEFAULT_THRESHOLD))
