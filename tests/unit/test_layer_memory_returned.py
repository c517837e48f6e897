"""A dropped layer's arrays go back to the system (glibc): without it, a small array kept above them in the
heap pinned their pages, and the viewer stayed 45-120 MB bigger after four layers than its layers were."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blocks_tui.tui.layer_budget import give_back_dropped_layers

SCRIPT = """
import sys
import numpy as np
from blocks_tui.tui.layer_budget import give_back_dropped_layers

def resident_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "fixed":
    assert give_back_dropped_layers()
first = np.ones(16 << 17)  # a 16 MB layer, dropped: glibc's threshold for mmap rises to 16 MB
del first
layer = [np.ones(4 << 17) for _ in range(50)]  # the next layer: 200 MB in 4 MB arrays
kept = np.ones(3 << 17)  # a 3 MB table, kept, allocated after them
before = resident_mb()
del layer  # the layer is dropped
print(before - resident_mb())
"""


def _released_mb(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return float(out.stdout)


@pytest.mark.skipif(not give_back_dropped_layers(), reason="glibc only: elsewhere the threshold is not set")
def test_a_dropped_layers_arrays_go_back_to_the_system() -> None:
    assert _released_mb("default") < 50  # the kept table pins the freed layer's heap pages
    assert _released_mb("fixed") > 180  # mapped on their own, its 200 MB go back when it is dropped
