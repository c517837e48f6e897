"""A layer past the memory budget: a per-class sample for relevance, the exact top samples, one streaming pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis.relevance import ResponseIndex
from blocks_tui.analysis.response_sampling import stratified_rows, stream_layer
from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.tui.responses import TOP_SAMPLES, load_layer, rank_neurons

CLASSES, SAMPLES, CHANNELS = 7, 900, 24


@pytest.fixture(scope="module")
def layer_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, class means and float16 responses with many ties (a third are exact zeros, as after a ReLU)."""
    rng = np.random.default_rng(11)
    labels = rng.integers(0, CLASSES, SAMPLES)
    collective = (rng.random((SAMPLES, CHANNELS)) * 4 + labels[:, None] % 3).astype(np.float16)
    collective[rng.random(collective.shape) < 0.33] = 0
    collective[:, 5] = 1  # a channel that is all ties
    class_mean = rng.random((CLASSES, CHANNELS, 2, 2)).astype(np.float32)
    return labels, class_mean, collective


def test_the_stratified_sample_takes_up_to_k_of_every_class(layer_data: tuple[np.ndarray, ...]) -> None:
    labels = layer_data[0]
    assert stratified_rows(labels, CLASSES, SAMPLES) is None  # everything fits: no sample
    rows = stratified_rows(labels, CLASSES, 70)
    assert rows is not None and np.all(np.diff(rows) > 0)
    per_class = np.bincount(labels[rows], minlength=CLASSES)
    assert per_class.tolist() == [min(10, n) for n in np.bincount(labels, minlength=CLASSES)]
    assert np.array_equal(rows, stratified_rows(labels, CLASSES, 70))  # the same sample on every load
    assert np.bincount(labels[stratified_rows(labels, CLASSES, 3)], minlength=CLASSES).min() == 1  # at least one


@pytest.mark.parametrize("block_bytes", [CHANNELS * 2, 1000, 1 << 20])
def test_one_streaming_pass_keeps_the_rows_and_finds_the_exact_top_samples(layer_data: tuple[np.ndarray, ...],
                                                                           block_bytes: int) -> None:
    labels, _, collective = layer_data
    rows = stratified_rows(labels, CLASSES, 140)
    assert rows is not None
    reads: list[int] = []

    def read(a: int, b: int) -> np.ndarray:
        reads.append(b - a)
        return collective[a:b]

    kept, top = stream_layer(read, SAMPLES, rows, TOP_SAMPLES, block_bytes=block_bytes)
    assert np.array_equal(kept, collective[rows])
    assert np.array_equal(top, ResponseIndex(collective).top_samples(TOP_SAMPLES))  # ties to the lower id
    assert max(reads) * CHANNELS * 2 <= max(block_bytes, CHANNELS * 2)  # never more than one block in memory
    assert np.array_equal(stream_layer(read, SAMPLES, rows, 0)[1], np.zeros((CHANNELS, 0), dtype=np.int64))


def write_layer_cache(path: Path, data: tuple[np.ndarray, ...]) -> Path:
    labels, class_mean, collective = data
    names = [f"c{i}" for i in range(CLASSES)]
    with CacheWriter(path, config={}) as w:
        w.write_classes(names)
        w.write_hierarchy(["all", *names], np.array([-1] + [0] * CLASSES), np.array([-1, *range(CLASSES)]),
                          source="file")
        w.write_samples(labels, [f"s{i}" for i in range(SAMPLES)], np.zeros((SAMPLES, 48, 48, 3), np.uint8))
        topk = np.stack([(labels + i) % CLASSES for i in range(5)], axis=1)
        w.write_result_set("original", topk, np.full(topk.shape, 0.5), np.full(SAMPLES, 0.5))
        w.write_layer("conv", class_mean, collective, (1, CHANNELS, 8, 8))
    return path


def test_a_layer_past_the_budget_ranks_on_its_sample_and_keeps_the_whole_layers_tops(
        tmp_path: Path, layer_data: tuple[np.ndarray, ...]) -> None:
    labels, _, collective = layer_data
    path = write_layer_cache(tmp_path / "layer.h5", layer_data)
    group = np.array([1, 4])
    with open_cache(path) as cache:
        whole = load_layer(cache, "conv", CLASSES)
        class_arrays = 2 * CLASSES * CHANNELS * 4 * 4 + CLASSES * CHANNELS * 4
        budget = class_arrays + 4 * CHANNELS * 280  # room for 280 rows: 40 per class
        sampled = load_layer(cache, "conv", CLASSES, budget=budget)
        assert whole.rows is None and sampled.rows is not None and len(sampled.rows) <= 280
        assert np.bincount(labels[sampled.rows], minlength=CLASSES).min() == 40
        assert sampled.index.nbytes <= 4 * CHANNELS * 280 < whole.index.nbytes
        assert np.array_equal(sampled.top_samples, whole.top_samples)  # the pane's tops: exact
        assert np.array_equal(sampled.cells, whole.cells)  # the map itself: class means, untouched
        ranking = rank_neurons(sampled, cache.labels, group, 3, "c1+c4")
    inside = np.isin(labels, group)
    want = ResponseIndex(collective[sampled.rows]).relevance(inside[sampled.rows])
    assert np.array_equal(ranking.scores, want, equal_nan=True)
    exact = ResponseIndex(collective).relevance(inside)
    assert ranking.order[0] in np.argsort(-exact)[:3]  # the sample still finds a top neuron
