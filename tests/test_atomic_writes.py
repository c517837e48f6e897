"""A writer killed at any point never leaves a file with the final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blocks_tui.cache import CacheError, open_cache, partial_path

_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from blocks_tui.cache import CacheWriter
    n = 2000
    with CacheWriter(sys.argv[1], config={"model": "k"}, resume_hint="blocks-tui demo --rebuild") as w:
        w.write_classes(["a", "b"])
        w.write_hierarchy(["r", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), source="file")
        w.write_samples(np.arange(n) % 2, [str(i) for i in range(n)],
                        np.random.default_rng(0).integers(0, 255, (n, 48, 48, 3), dtype=np.uint8))
        w.set_progress(n // 2, n)
        if sys.argv[2] == "samples":
            print("ready", flush=True); time.sleep(60)
        top = np.tile(np.arange(5) % 2, (n, 1))
        w.write_result_set("original", top, np.full((n, 5), 0.2), np.full(n, 0.2))
        if sys.argv[2] == "results":
            print("ready", flush=True); time.sleep(60)
    """
)


@pytest.mark.parametrize("stage", ["samples", "results"])
def test_killed_writer_leaves_no_final_file(tmp_path: Path, stage: str) -> None:
    final = tmp_path / "killed.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(final), stage], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert not final.exists()
    assert partial_path(final).exists()
    with pytest.raises(CacheError, match="no such cache, but an interrupted run left killed.h5.partial"):
        open_cache(final)


def test_clean_exit_leaves_only_the_final_file(tmp_path: Path) -> None:
    final = tmp_path / "ok.h5"
    subprocess.run([sys.executable, "-c", _CHILD, str(final), "none"], check=True, timeout=60)
    assert final.exists() and not partial_path(final).exists()
    with open_cache(final) as cache:
        assert cache.n_samples == 2000
