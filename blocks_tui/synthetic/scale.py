"""A realistic-scale synthetic cache, from numpy alone (``blocks-tui make-synthetic``).

Why: the analysis and the viewer must stay fast at ImageNet scale (1000+
classes, 50k samples, layers of 2048 channels), and that must be testable on
a laptop without a GPU, torch or a download.  So this module plants the
structure a real classifier shows, at any size, in a few seconds:

* a deep, unbalanced class tree like WordNet's: random fan-outs of 2 to 6,
  occasional single-child chains (WordNet's "entity → physical entity →
  object" stretches), and class indices shuffled so that the class order is
  *not* the tree order, as in ImageNet;
* confusions that concentrate in nested blocks: a misclassified sample is
  predicted as a class drawn from one of its true class's ancestors, a close
  one far more often than a distant one, so the confusion matrix in tree
  order shows blocks within blocks;
* block outliers: a few pairs of classes in distant branches that are
  confused with each other far more than the tree explains (the paper's
  missile/projectile);
* mislabeled samples: a label flipped to an unrelated class while the model
  confidently predicts the original one (§4.3);
* layers of channel responses in which each channel follows one hierarchy
  node (shallow layers shallow nodes, deep layers classes), so neuron
  relevance and the response map have something to find, and a few classes
  with two latent subclasses that only some deep channels tell apart.

:func:`generate` returns the arrays; :func:`write_synthetic_cache` writes
them through :class:`~blocks_tui.cache.CacheWriter` with a ground truth
record of what was planted, which only tests and benchmarks read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..analysis.hierarchy import Tree

DEFAULT_CHANNELS = (256, 512, 1024, 2048)
"""Channels of the four layers, as in a ResNet-50's four stages."""

CELLS = (4, 3, 2, 1)
"""d of each layer's d×d downsampled class means, coarser for deeper layers."""

TOP_K = 5
THUMBNAIL_SIDE = 48
SAMPLE_BLOCK = 1 << 14
"""Samples per block of thumbnails written: 113 MB of pixels."""


@dataclass(frozen=True)
class SyntheticHierarchy:
    """Tree arrays in depth-first pre-order, as the cache stores them."""

    names: list[str]
    parent: np.ndarray  # (nodes,) int64, -1 for the root
    class_index: np.ndarray  # (nodes,) int64, -1 for internal nodes


@dataclass(frozen=True)
class SyntheticLayer:
    """One layer's recipe: each channel follows one hierarchy node (see :func:`_layer`).

    Its per-sample responses are made block by block (:meth:`blocks`), each
    block from its own seeded generator, so a cache of a million samples and
    thousands of channels is written without holding the layer (7.7 GB at
    10k classes x 1M samples x 3,840 channels); :attr:`collective` builds it
    whole, for small data sets and tests.
    """

    name: str
    index: int
    output_shape: tuple[int, int, int, int]
    channel_node: np.ndarray  # (channels,) int64 the hierarchy node each channel follows
    amplitude: np.ndarray = field(repr=False)  # (channels,) float32
    spatial: np.ndarray = field(repr=False)  # (1, channels, d, d) float32, summing to 1 per channel
    sub_channels: np.ndarray = field(repr=False)  # channels that fire for one kind of a subclass class
    sub_owner: np.ndarray = field(repr=False)
    sub_second: np.ndarray = field(repr=False)
    seed: int = 0
    truth: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    labels: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    second_kind: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))
    start: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))  # node ranges, in
    stop: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))  # display positions
    position: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))  # class → position

    @property
    def n_channels(self) -> int:
        return len(self.channel_node)

    @property
    def block_rows(self) -> int:
        """Samples per block: bounds a block's float32 values to 16 MiB."""
        return max(1, (1 << 22) // self.n_channels)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(first sample, (rows, channels) float32 responses)`` for consecutive blocks of samples."""
        nodes = self.channel_node
        lo, hi = self.start[nodes][None, :], self.stop[nodes][None, :]
        for first in range(0, len(self.truth), self.block_rows):
            rows = slice(first, first + self.block_rows)
            rng = np.random.default_rng([self.seed, self.index, first])
            truth = self.truth[rows]
            p = self.position[truth][:, None]
            values = rng.standard_exponential((len(truth), self.n_channels), dtype=np.float32)
            values -= np.float32(1.0)  # zero-mean noise, rectified below as a ReLU would
            values += ((lo <= p) & (p < hi)) * self.amplitude[None, :]
            if len(self.sub_channels):
                mine = truth[:, None] == self.sub_owner[None, :]
                kind = self.second_kind[rows, None] == self.sub_second[None, :]
                values[:, self.sub_channels] += (mine & kind) * np.float32(5.0)
            np.maximum(values, 0.0, out=values)
            yield first, values

    def add_sums(self, sums: np.ndarray, first: int, values: np.ndarray) -> None:
        """Add a block's responses to per-label sums (classes, channels), as an extractor's class means."""
        labels = self.labels[first : first + len(values)]
        order = np.argsort(labels, kind="stable")
        ordered = labels[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sums[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)

    def class_mean_of(self, sums: np.ndarray) -> np.ndarray:
        """(classes, channels, d, d) float32 class means from :meth:`add_sums` over every block."""
        counts = np.bincount(self.labels, minlength=sums.shape[0])
        mean = sums / np.maximum(counts, 1)[:, None]
        return mean.astype(np.float32)[:, :, None, None] * self.spatial

    @cached_property
    def collective(self) -> np.ndarray:
        """(samples, channels) float16: every block at once (small data sets; the writer streams them)."""
        out = np.empty((len(self.truth), self.n_channels), dtype=np.float16)
        for first, values in self.blocks():
            out[first : first + len(values)] = values
        return out

    @cached_property
    def class_mean(self) -> np.ndarray:
        sums = np.zeros((len(self.position), self.n_channels), dtype=np.float64)
        for first, values in self.blocks():
            self.add_sums(sums, first, values)
        return self.class_mean_of(sums)


@dataclass(frozen=True)
class SyntheticScale:
    """Everything a cache holds, plus what was planted (``ground_truth``)."""

    class_names: list[str]
    hierarchy: SyntheticHierarchy
    labels: np.ndarray  # (samples,) int64 stored labels (mislabels included)
    topk_index: np.ndarray  # (samples, 5) int64
    topk_prob: np.ndarray  # (samples, 5) float32
    true_prob: np.ndarray  # (samples,) float32
    layers: list[SyntheticLayer]
    ground_truth: dict[str, Any] = field(repr=False)


def parse_channels(text: str) -> tuple[int, ...]:
    """``"256,512,1024,2048"`` as a tuple: 1 to 4 positive channel counts, or ValueError saying what is wrong."""
    try:
        channels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"expected comma-separated integers such as 256,512,1024,2048, got {text!r}") from None
    if not 1 <= len(channels) <= len(CELLS) or min(channels) < 1:
        raise ValueError(f"expected 1 to {len(CELLS)} positive channel counts, got {text!r}")
    return channels


def random_hierarchy(n_classes: int, rng: np.random.Generator, max_children: int = 6,
                     chain_probability: float = 0.12) -> SyntheticHierarchy:
    """A deep, unbalanced tree over ``n_classes`` leaves, nodes in depth-first pre-order.

    Each internal node splits its classes at random cut points into 2 to
    ``max_children`` parts, so sizes vary as WordNet's do; with
    ``chain_probability`` a node gets a single internal child first, which
    deepens the tree without adding branches.  Class indices are a random
    permutation of the leaf order.
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    names: list[str] = []
    parent: list[int] = []
    leaf_of_position: list[int] = []
    # (parent node, first position, number of classes, name, may chain)
    stack: list[tuple[int, int, int, str, bool]] = [(-1, 0, n_classes, "entity", True)]
    while stack:
        up, first, count, name, may_chain = stack.pop()
        node = len(names)
        names.append(name)
        parent.append(up)
        if count == 1:
            leaf_of_position.append(node)
            continue
        if may_chain and up >= 0 and rng.random() < chain_probability:
            stack.append((node, first, count, f"{name}.0", False))
            continue
        parts = int(rng.integers(2, min(count, max_children) + 1))
        cuts = np.sort(rng.choice(np.arange(1, count), size=parts - 1, replace=False))
        bounds = np.concatenate([[0], cuts, [count]])
        children = [(node, first + int(bounds[i]), int(bounds[i + 1] - bounds[i]), f"{name}.{i + 1}", True)
                    for i in range(parts)]
        stack.extend(reversed(children))  # popped in order, so the tree is pre-order
    class_of_position = rng.permutation(n_classes)
    class_index = np.full(len(names), -1, dtype=np.int64)
    class_index[np.array(leaf_of_position)] = class_of_position
    for position, node in enumerate(leaf_of_position):
        names[node] = f"class-{class_of_position[position]:05d}"
    names[0] = "entity"
    return SyntheticHierarchy(names, np.array(parent, dtype=np.int64), class_index)


def _ancestor_table(tree: Tree) -> np.ndarray:
    """(classes, max depth + 1): column j holds the j-th ancestor of each class's leaf (root-clipped)."""
    table = np.empty((tree.n_classes, int(tree.depth.max()) + 1), dtype=np.int64)
    table[:, 0] = tree.leaf_of_class()
    up = tree.parent.copy()
    up[0] = 0
    for j in range(1, table.shape[1]):
        table[:, j] = up[table[:, j - 1]]
    return table


def _confused_class(true: np.ndarray, rng: np.random.Generator, tree: Tree, ancestors: np.ndarray,
                    closeness: float, across_rate: float) -> np.ndarray:
    """A class other than ``true`` drawn from one of its ancestors' subtrees.

    The j-th ancestor is picked with odds ``closeness**j`` but never above the
    true class's top-level group, except for a share ``across_rate`` of the
    confusions, which go anywhere: so the top-level groups are the largest
    blocks, as in ImageNet, and nested blocks sit inside them.
    """
    start, stop = tree.start, tree.stop
    leaf_depth = tree.depth[ancestors[true, 0]]
    top = np.maximum(leaf_depth - 1, 0)  # steps up to the depth-1 ancestor
    steps = np.minimum(rng.geometric(1.0 - closeness, size=len(true)), top)
    steps = np.where(rng.random(len(true)) < across_rate, leaf_depth, steps)
    node = ancestors[true, steps]
    # Climb on past single-class nodes (chains, and the leaf itself).
    for _ in range(ancestors.shape[1]):
        small = stop[node] - start[node] < 2
        if not small.any():
            break
        steps = np.where(small, np.minimum(steps + 1, ancestors.shape[1] - 1), steps)
        node = ancestors[true, steps]
    size = stop[node] - start[node]
    own = tree.position[true]
    pick = start[node] + (rng.random(len(true)) * (size - 1)).astype(np.int64)
    pick += pick >= own  # skip the true class itself
    return tree.order[pick]


def generate(n_classes: int = 1000, n_samples: int = 50_000, channels: Sequence[int] = DEFAULT_CHANNELS,
             seed: int = 0, error_rate: float = 0.3, closeness: float = 0.55, across_rate: float = 0.03,
             outlier_pairs: int | None = None, mislabel_rate: float = 0.004,
             subclass_classes: int | None = None) -> SyntheticScale:
    """Plant a realistic data set; see the module docstring for what and why.

    ``channels`` gives one layer per entry (at most 4, matching :data:`CELLS`);
    ``error_rate`` is the mean top-1 error, ``closeness`` the odds of each
    further step up the tree when a confusion is drawn (smaller keeps
    confusions in tighter blocks), ``across_rate`` the share of confusions
    that cross top-level groups.  ``outlier_pairs`` defaults to one pair per
    40 classes, ``subclass_classes`` to one class in 100.
    """
    if n_samples < n_classes:
        raise ValueError(f"n_samples ({n_samples}) must be at least n_classes ({n_classes})")
    if len(channels) > len(CELLS):
        raise ValueError(f"at most {len(CELLS)} layers, got {len(channels)}")
    if any(c < 1 for c in channels):
        raise ValueError(f"channels must be positive, got {list(channels)}")
    if not 0 <= error_rate < 1:
        raise ValueError(f"error_rate must lie in [0, 1), got {error_rate}")
    if not 0 < closeness < 1:
        raise ValueError(f"closeness must lie in (0, 1), got {closeness}")
    if not 0 <= across_rate <= 1:
        raise ValueError(f"across_rate must lie in [0, 1], got {across_rate}")
    if not 0 <= mislabel_rate <= 0.1:
        raise ValueError(f"mislabel_rate must lie in [0, 0.1], got {mislabel_rate}")
    rng = np.random.default_rng(seed)
    hierarchy = random_hierarchy(n_classes, rng)
    tree = Tree.from_hierarchy(hierarchy)
    ancestors = _ancestor_table(tree)

    # Labels: every class at least once, the rest at random (sizes vary).
    truth = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n_samples - n_classes)])
    rng.shuffle(truth)
    class_error = np.clip(rng.beta(2.0, 2.0 * (1 - error_rate) / error_rate, n_classes), 0.0, 0.95) \
        if error_rate > 0 else np.zeros(n_classes)
    wrong = rng.random(n_samples) < class_error[truth]
    predicted = truth.copy()
    predicted[wrong] = _confused_class(truth[wrong], rng, tree, ancestors, closeness, across_rate)

    # Block outliers: distant pairs (different top-level branches if possible).
    n_pairs = max(1, n_classes // 40) if outlier_pairs is None else outlier_pairs
    top_branch = tree.ancestor_at_depth(1)
    pairs: list[tuple[int, int]] = []
    for _ in range(n_pairs * 20):
        if len(pairs) == n_pairs:
            break
        a, b = (int(x) for x in rng.integers(0, n_classes, 2))
        if top_branch[a] != top_branch[b] and all(a not in p and b not in p for p in pairs):
            pairs.append((a, b))
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            members = np.flatnonzero(truth == x)
            chosen = members[rng.random(len(members)) < 0.25]
            predicted[chosen] = y
            wrong[chosen] = True

    # Mislabels: the stored label names an unrelated class; the model is sure of the real one.
    n_mislabels = int(round(mislabel_rate * n_samples))
    mislabeled = np.sort(rng.choice(np.flatnonzero(~wrong), size=n_mislabels, replace=False))
    labels = truth.copy()
    flipped = (truth[mislabeled] + rng.integers(1, n_classes, n_mislabels)) % n_classes
    labels[mislabeled] = flipped

    topk_index, topk_prob, true_prob = _topk(labels, truth, predicted, wrong, mislabeled, rng, tree)

    # Latent subclasses: two kinds of sample in a few classes, told apart by some deep channels.
    n_sub = max(1, n_classes // 100) if subclass_classes is None else subclass_classes
    sub_classes = np.sort(rng.choice(n_classes, size=min(n_sub, n_classes), replace=False))
    second_kind = np.zeros(n_samples, dtype=bool)
    for c in sub_classes:
        members = np.flatnonzero(truth == c)
        second_kind[members[rng.random(len(members)) < 0.5]] = True

    layers = [
        _layer(f"layer{i + 1}", i, len(channels), c, truth, labels, second_kind, sub_classes, tree, rng, seed)
        for i, c in enumerate(channels)
    ]
    ground_truth = {
        "generator": "synthetic_scale",
        "seed": seed,
        "outlier_pairs": [list(p) for p in pairs],
        "mislabeled_samples": mislabeled.tolist(),
        "subclasses": {str(int(c)): np.flatnonzero((truth == c) & second_kind).tolist() for c in sub_classes},
    }
    class_names = [f"class-{c:05d}" for c in range(n_classes)]
    return SyntheticScale(class_names, hierarchy, labels, topk_index, topk_prob, true_prob, layers, ground_truth)


def _topk(labels: np.ndarray, truth: np.ndarray, predicted: np.ndarray, wrong: np.ndarray,
          mislabeled: np.ndarray, rng: np.random.Generator, tree: Tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-5 classes and probabilities: the prediction, then the true class (often) and its tree neighbours."""
    n_samples = len(labels)
    n_classes = tree.n_classes
    # Candidates for ranks 2..5: the true class and its neighbours in tree order.
    offsets = np.array([-3, -2, -1, 1, 2, 3])
    neighbours = tree.order[(tree.position[truth][:, None] + offsets[None, :]) % n_classes]
    neighbours = rng.permuted(neighbours, axis=1)
    candidates = np.concatenate([truth[:, None], neighbours], axis=1)
    # The true class ranks second for 60% of the errors, lower or not at all otherwise.
    late = rng.random(n_samples) >= 0.6
    candidates[late] = np.roll(candidates[late], -rng.integers(1, 4), axis=1)
    usable = candidates != predicted[:, None]
    rank = np.argsort(~usable, axis=1, kind="stable")[:, : TOP_K - 1]
    rest = np.take_along_axis(candidates, rank, axis=1)
    topk_index = np.concatenate([predicted[:, None], rest], axis=1)

    p1 = np.where(wrong, 0.25 + 0.5 * rng.beta(2, 2, n_samples), 0.5 + 0.5 * rng.beta(5, 1.5, n_samples))
    p1[mislabeled] = 0.97 + 0.029 * rng.random(len(mislabeled))
    shares = np.sort(rng.random((n_samples, TOP_K - 1)), axis=1)[:, ::-1] * p1[:, None]
    scale = np.minimum(1.0, 0.98 * (1 - p1) / shares.sum(axis=1))
    topk_prob = np.concatenate([p1[:, None], shares * scale[:, None]], axis=1).astype(np.float32)

    hit = topk_index == labels[:, None]
    tail = topk_prob[:, -1] * rng.random(n_samples)  # a label outside the top 5 gets less than rank 5
    true_prob = np.where(hit.any(axis=1), (topk_prob * hit).sum(axis=1), tail)
    true_prob[mislabeled] = 10 ** rng.uniform(-5, -3, len(mislabeled))
    return topk_index.astype(np.int64), topk_prob, true_prob.astype(np.float32)


def _layer(name: str, index: int, n_layers: int, n_channels: int, truth: np.ndarray, labels: np.ndarray,
           second_kind: np.ndarray, sub_classes: np.ndarray, tree: Tree, rng: np.random.Generator,
           seed: int) -> SyntheticLayer:
    """One layer: each channel fires for the classes under one node, plus rectified noise.

    Layer ``index`` of ``n_layers`` draws its nodes from a depth band that
    moves from the top of the tree to the leaves, as features grow more
    specific with depth in a CNN.  In the last layer, for each subclass class,
    one group of channels fires for its first kind of sample and another for
    its second.  Responses follow the true class (what the image shows);
    class means follow the stored label, as an extractor computes them.
    Only the recipe is drawn here; :meth:`SyntheticLayer.blocks` makes the responses.
    """
    depth = tree.depth
    relative = depth / max(1, depth.max())
    band_centre = (index + 0.5) / max(1, n_layers)
    weight = np.exp(-((relative - band_centre) ** 2) / 0.05) * (depth > 0)
    channel_node = rng.choice(len(depth), size=n_channels, p=weight / weight.sum())
    amplitude = rng.uniform(2.0, 6.0, n_channels).astype(np.float32)
    per_kind = max(1, n_channels // 128)
    n_sub = min(len(sub_classes), n_channels // (8 * per_kind)) if index == n_layers - 1 else 0
    sub_channels = np.arange(2 * per_kind * n_sub)
    sub_owner = sub_classes[sub_channels // (2 * per_kind)]
    sub_second = (sub_channels // per_kind) % 2 == 1
    channel_node[sub_channels] = tree.leaf_of_class()[sub_owner]
    amplitude[sub_channels] = 0.0  # they fire through the subclass term
    d = CELLS[index]
    spatial = rng.uniform(0.5, 1.5, (1, n_channels, d, d)).astype(np.float32)
    spatial /= spatial.sum(axis=(2, 3), keepdims=True)
    side = 56 >> index
    return SyntheticLayer(name, index, (1, n_channels, side, side), channel_node, amplitude, spatial, sub_channels,
                          sub_owner, sub_second, seed, truth, labels, second_kind, tree.start, tree.stop,
                          tree.position)


def _thumbnails(labels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(samples, 48, 48, 3) uint8: a gradient in a colour per class (``colours`` (classes, 3)), cheap to
    compress."""
    ramp = np.linspace(-40, 40, THUMBNAIL_SIDE).astype(np.int16)
    tile = ramp[:, None, None] + ramp[None, :, None] // 2
    return np.clip(colours[labels][:, None, None, :] + tile[None], 0, 255).astype(np.uint8)


def write_synthetic_cache(path: Path | str, data: SyntheticScale, seed: int = 0) -> Path:
    """Write ``data`` as a complete cache through the real writer; returns the path."""
    from ..cache import CacheWriter  # h5py only when writing

    config = {
        "model": "synthetic",
        "dataset": f"synthetic-scale {len(data.class_names)} classes x {len(data.labels)} samples",
        "seed": seed,
        "layers": [layer.name for layer in data.layers],
    }
    n_classes, n_samples = len(data.class_names), len(data.labels)
    colours = np.random.default_rng(seed + 1).integers(40, 216, (n_classes, 3)).astype(np.int16)
    with CacheWriter(path, config=config, resume_hint="blocks-tui make-synthetic") as w:
        w.write_classes(data.class_names, ids=[f"s{c:08d}" for c in range(n_classes)])
        h = data.hierarchy
        w.write_hierarchy(h.names, h.parent, h.class_index, source="file")
        # Thumbnails and layer responses go in blocks: 1M samples hold 7 GB of each, never in memory at once.
        w.begin_samples(n_samples, (THUMBNAIL_SIDE, THUMBNAIL_SIDE, 3))
        for first in range(0, n_samples, SAMPLE_BLOCK):
            labels = data.labels[first : first + SAMPLE_BLOCK]
            w.append_samples(labels, [f"synthetic/{i:07d}" for i in range(first, first + len(labels))],
                             _thumbnails(labels, colours))
        w.write_result_set("original", data.topk_index, data.topk_prob, data.true_prob,
                           attrs={"transform": "none"})
        for layer in data.layers:
            d = layer.spatial.shape[-1]
            w.begin_layer(layer.name, layer.n_channels, d, layer.output_shape)
            sums = np.zeros((n_classes, layer.n_channels), dtype=np.float64)
            for first, values in layer.blocks():
                w.write_layer_rows(layer.name, first, values)
                layer.add_sums(sums, first, values)
            w.write_class_mean(layer.name, layer.class_mean_of(sums))
        w.write_ground_truth(data.ground_truth)
    return Path(path)
