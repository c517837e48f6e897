"""``blocks-tui bench open``: opening a large cache must not read its responses.

Times :func:`open_cache` plus the first lookups a viewer makes on a cache
(the CLI writes an ImageNet-sized synthetic one with ``make-synthetic``'s
generator), against the baseline of reading every dataset with plain h5py.
Reports seconds, resident memory growth and the ratio.  Then the reads the
viewer makes after that (a pane's thumbnails, a layer's rows for scattered
samples) through the cache, against h5py's own fancy indexing on the same
open datasets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cache import open_cache
from ..cache.raw_reads import fancy_row_reads, read_every_dataset


@dataclass(frozen=True)
class OpenBenchResult:
    samples: int
    classes: int
    file_bytes: int
    open_seconds: float
    open_rss_bytes: int
    read_all_seconds: float
    read_all_bytes: int

    @property
    def speedup(self) -> float:
        return self.read_all_seconds / self.open_seconds if self.open_seconds else float("inf")


def _rss_bytes() -> int:
    """Current resident set size (Linux); 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    import resource

    return pages * resource.getpagesize()


def bench_open(path: Path, repeats: int = 5) -> OpenBenchResult:
    """Time opening ``path`` (validated, lazy) against reading everything in it with h5py."""
    open_times = []
    samples = classes = 0
    rss_growth = 0
    for _ in range(repeats):
        before = _rss_bytes()
        started = time.perf_counter()
        with open_cache(path) as cache:
            cache.result(cache.result_names[0]).predicted  # what a first frame needs
            open_times.append(time.perf_counter() - started)
            rss_growth = max(rss_growth, _rss_bytes() - before)
            samples, classes = cache.n_samples, cache.n_classes
    read_times = []
    read_bytes = 0
    for _ in range(max(1, repeats // 2)):
        started = time.perf_counter()
        read_bytes = read_every_dataset(path)
        read_times.append(time.perf_counter() - started)
    return OpenBenchResult(
        samples=samples,
        classes=classes,
        file_bytes=path.stat().st_size,
        open_seconds=float(np.median(open_times)),
        open_rss_bytes=int(rss_growth),
        read_all_seconds=float(np.median(read_times)),
        read_all_bytes=int(read_bytes),
    )


@dataclass(frozen=True)
class RowReadTiming:
    """Reading ``rows`` scattered rows of one dataset: through the cache and with h5py's fancy indexing."""

    dataset: str
    rows: int
    cache_seconds: float
    h5py_seconds: float

    @property
    def speedup(self) -> float:
        return self.h5py_seconds / self.cache_seconds if self.cache_seconds else float("inf")


def bench_rows(path: Path, counts: tuple[int, ...] = (10, 1000), repeats: int = 3) -> list[RowReadTiming]:
    """Median time to read ``counts`` random rows of the thumbnails and of each layer's collective
    responses, warm (the chunks already cached), via the cache and via ``dataset[sorted_ids]``."""
    timings = []
    rng = np.random.default_rng(0)
    with open_cache(path) as cache, fancy_row_reads(path) as raw:
        readers = [("thumbnails", cache.thumbnails, raw[0])]
        for name, raw_read in zip(cache.layer_names, raw[1:]):
            readers.append((f"{name} collective", cache.layer(name).collective, raw_read))
        for name, through_cache, through_h5py in readers:
            for count in counts:
                ids = np.sort(rng.choice(cache.n_samples, min(count, cache.n_samples), replace=False))
                timed = []
                for read in (through_cache, through_h5py):
                    read(ids)  # warm: the chunks in cache, as when a pane scrolls back
                    runs = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        read(ids)
                        runs.append(time.perf_counter() - started)
                    timed.append(float(np.median(runs)))
                timings.append(RowReadTiming(name, len(ids), timed[0], timed[1]))
    return timings
