"""Synthetic hierarchical image data set for the built-in demo.

Why synthetic: the demo must run offline in about a minute on a laptop CPU,
yet show everything the Blocks paper finds in ImageNet — nested blocks along
the diagonal of the confusion matrix, a redundant pair of classes, a subclass
relation, mislabeled images, and groups that depend on colour or orientation.
Real data cannot be shipped or downloaded, so the structure is planted here,
and :func:`ground_truth` says exactly what was planted so tests can check the
analysis finds it.  Analysis and UI code must never read the ground truth.

Design of the planted structure (see :data:`TREE`):

* two top-level groups that look nothing alike — ``artifacts`` are hard-edged
  flat shapes on a plain background, ``natural`` are soft-edged shapes and
  textures on a textured background — so a small CNN rarely confuses across
  them, while classes inside a mid-level group share most of their look;
* 15% of all samples are drawn small, "seen from afar" (:func:`_distance_scale`):
  the details that separate siblings (the number of polygon sides, a ring's
  inner circle) blur away at the model's 32 px input while the look of the
  group survives, so the errors that remain after training fall inside
  mid-level groups — the nested blocks.  The sea creatures share a rippled
  'water' background for the same reason: context keeps errors in the group;
* ``missile`` and ``projectile`` are drawn by the *same* generator (identical
  distribution) but sit in distant branches of ``artifacts``: a redundant
  pair, like ImageNet's missile/projectile;
* ``anemone`` is drawn by the ``flower`` generator restricted to a corner of
  its parameter space (many thin petals): a subclass pair whose confusion is
  asymmetric (flowers that happen to look like anemones are predicted as
  anemones, anemones are rarely predicted as flowers);
* the ``colours`` group differs only by hue, with hues of near-equal luma, so
  a grayscale transform makes its members indistinguishable from the gray
  ``pebble`` class drawn by the same blob generator — the group's recall
  collapses; every other class uses random colours and 20% of its samples
  are fully desaturated, so grayscale images are in-distribution for them;
* the ``arrows`` group (arrows and chevrons pointing up or down) depends on
  orientation: every other class is drawn at a uniformly random rotation on an
  isotropic background, so rotating by 90 degrees is in-distribution for them,
  while a rotated arrow points left or right, which no training image does.
  (Four arrows pointing up/right/down/left would not do: ``rot90`` maps that
  set onto itself, so the *group* recall of the paper's Eq. 1 would not move.)
* about 2.5% of the evaluation labels are flipped, as annotators confuse
  similar things: four in five to a sibling class (same parent), the rest to
  a cousin (same top-level group, another parent), never across the top
  level.  Flips to any class of the top-level group had spread a third of
  all errors evenly over its block and hidden the nested blocks inside it;
  the few to cousins are mislabeled images that show as block outliers, and
  they are what ties a top-level group's subgroups together in the
  confusions, so that seriation finds the top-level groups.  Training
  labels stay clean: the mislabeled images Blocks finds in ImageNet are an
  evaluation-set phenomenon, and a model trained on clean labels predicts the
  true class of a mislabeled image confidently — which is exactly what makes
  it stand out as an off-block cell the viewer can find.

Everything here is numpy + PIL; importing this module never imports torch.
"""

from __future__ import annotations

import colorsys
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..analysis.hierarchy import Tree

SIZE = 48
"""Side of every rendered image (and of the thumbnails stored in the cache)."""

_SS = 2
"""Supersampling factor: shapes are drawn at ``SIZE * _SS`` and box-reduced,
which anti-aliases hard edges without a per-pixel Python loop."""

_BIG = SIZE * _SS

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R BT.601 luma weights, the ones PIL's ``convert("L")`` uses and the
grayscale transform of the demo applies."""

DESATURATED_FRACTION = 0.2
"""Share of samples of every non-colour class that are rendered in grayscale,
so a grayscale transform is in-distribution for them."""

FAR_FRACTION = 0.15
FAR_SCALE = (0.4, 0.6)
"""Share and size range of samples drawn small ('seen from afar'), the source
of genuine within-group ambiguity; see :func:`_distance_scale`."""

LABEL_NOISE_RATE = 0.025
"""Share of evaluation samples whose stored label is flipped."""
COUSIN_FLIP_SHARE = 0.2
"""Share of the flips that go to a cousin class rather than a sibling."""

# -- the class hierarchy ------------------------------------------------------

TREE: tuple = (
    "all",
    [
        (
            "artifacts",
            [
                (
                    "polygons",
                    [
                        ("few-sided", ["triangle", "square"]),
                        ("many-sided", ["pentagon", "hexagon", "octagon"]),
                    ],
                ),
                ("arrows", ["arrow-up", "arrow-down", "chevron-up", "chevron-down"]),
                ("rings", ["ring", "double-ring", "bullseye", "broken-ring", "projectile"]),
                ("rods", ["missile", "capsule", "dumbbell", "bolt"]),
            ],
        ),
        (
            "natural",
            [
                ("colours", ["red-blob", "green-blob", "blue-blob", "yellow-blob"]),
                ("textures", ["stripes", "checker", "dots", "speckle"]),
                ("plants", ["flower", "leaf", "tree", "cactus"]),
                ("sea", ["shell", "starfish", "coral", "anemone", "pebble"]),
            ],
        ),
    ],
)
"""The hierarchy as nested ``(node, children)`` tuples; a bare string is a
leaf (a class).  Depth-first order of the leaves defines the class indices."""

COLOUR_HUES: Mapping[str, float] = MappingProxyType(
    {"red-blob": 0.0, "green-blob": 1 / 3, "blue-blob": 0.63, "yellow-blob": 0.14}
)
COLOUR_LUMA = 120.0
"""Target luma of the colour-group hues: equal luma means grayscale erases
the only thing that tells these classes apart."""

FLOWER_PETALS = (4, 10)
FLOWER_WIDTH = (0.25, 1.0)
ANEMONE_PETALS = (7, 10)
ANEMONE_WIDTH = (0.25, 0.6)
"""Anemone = flower restricted to many thin petals.  About 27% of the flowers
drawn near fall in that corner (4/7 of the petal counts, 0.35/0.75 of the
widths), where anemones are ~4x denser, so the confusion runs mostly
flower -> anemone.
Anemones are also never drawn small (``near_only``): a restriction of the
distance parameter too, so that small flowers, whose petals cannot be
counted, are confused one way only (with a symmetric confusion there, the
asymmetry would drown in it)."""

# class name -> (generator kind, parameters).  Two classes with the same entry
# have the same image distribution.
_CLASS_KINDS: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "triangle": ("polygon", {"sides": 3}),
    "square": ("polygon", {"sides": 4}),
    "pentagon": ("polygon", {"sides": 5}),
    "hexagon": ("polygon", {"sides": 6}),
    "octagon": ("polygon", {"sides": 8}),
    "arrow-up": ("arrow", {"angle": 90.0}),
    "arrow-down": ("arrow", {"angle": 270.0}),
    "chevron-up": ("chevron", {"angle": 90.0}),
    "chevron-down": ("chevron", {"angle": 270.0}),
    "ring": ("ring", {}),
    "double-ring": ("double_ring", {}),
    "bullseye": ("bullseye", {}),
    "broken-ring": ("broken_ring", {}),
    "projectile": ("missile", {}),
    "missile": ("missile", {}),
    "capsule": ("capsule", {}),
    "dumbbell": ("dumbbell", {}),
    "bolt": ("bolt", {}),
    "red-blob": ("blob", {"hue": COLOUR_HUES["red-blob"]}),
    "green-blob": ("blob", {"hue": COLOUR_HUES["green-blob"]}),
    "blue-blob": ("blob", {"hue": COLOUR_HUES["blue-blob"]}),
    "yellow-blob": ("blob", {"hue": COLOUR_HUES["yellow-blob"]}),
    "stripes": ("stripes", {}),
    "checker": ("checker", {}),
    "dots": ("dots", {}),
    "speckle": ("speckle", {}),
    "flower": ("flower", {"petals": FLOWER_PETALS, "width": FLOWER_WIDTH}),
    "leaf": ("leaf", {}),
    "tree": ("tree", {}),
    "cactus": ("cactus", {}),
    "shell": ("shell", {}),
    "starfish": ("starfish", {}),
    "coral": ("coral", {}),
    "anemone": ("flower", {"petals": ANEMONE_PETALS, "width": ANEMONE_WIDTH, "near_only": True}),
    "pebble": ("blob", {"hue": None}),
}


@dataclass(frozen=True)
class ClassSpec:
    """One class: its name and the generator (kind + parameters) drawing it."""

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def recipe(self) -> tuple[str, tuple]:
        """Hashable identity of the image distribution (kind + parameters)."""
        return self.kind, tuple(sorted(self.params.items()))


@dataclass(frozen=True, eq=False)
class DemoSpec:
    """Classes and hierarchy of the demo data set, plus what was planted.

    The hierarchy is stored the way the cache stores it: parallel arrays over
    nodes in depth-first order, ``parent`` (-1 for the root) and
    ``class_index`` (the class of a leaf, -1 for inner nodes).  Class indices
    follow the depth-first leaf order, so the natural class order already is
    the hierarchy order.
    """

    classes: tuple[ClassSpec, ...]
    node_names: tuple[str, ...]
    parent: np.ndarray
    class_index: np.ndarray
    top_level: tuple[str, ...]
    colour_group: str = "colours"
    orientation_group: str = "arrows"
    redundant_pair: tuple[str, str] = ("missile", "projectile")
    subclass_pair: tuple[str, str] = ("flower", "anemone")
    label_noise_rate: float = LABEL_NOISE_RATE

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def class_id(self, name: str) -> int:
        """Index of the class called ``name``."""
        return self.class_names.index(name)

    def node_id(self, name: str) -> int:
        """Index of the hierarchy node called ``name``."""
        return self.node_names.index(name)

    @functools.cached_property
    def tree(self) -> Tree:
        """The hierarchy as the analysis layer sees it (nodes as ranges of the class order)."""
        return Tree.from_arrays(self.node_names, self.parent, self.class_index)

    def classes_under(self, node: str | int) -> np.ndarray:
        """Class indices of the leaves below ``node`` (a name or an index), sorted."""
        node_id = self.node_id(node) if isinstance(node, str) else int(node)
        return np.sort(self.tree.classes_of(node_id))

    @functools.cached_property
    def parent_of_class(self) -> np.ndarray:
        """For each class, the hierarchy node its leaf hangs from."""
        return self.tree.parent[self.tree.leaf_of_class()]

    @functools.cached_property
    def siblings_of_class(self) -> tuple[np.ndarray, ...]:
        """For each class, the other classes under its parent node, sorted."""
        parent = self.parent_of_class
        return tuple(np.flatnonzero((parent == parent[c]) & (np.arange(self.n_classes) != c))
                     for c in range(self.n_classes))

    @functools.cached_property
    def cousins_of_class(self) -> tuple[np.ndarray, ...]:
        """For each class, the classes of its top-level group under another parent, sorted."""
        parent, top = self.parent_of_class, self.top_level_of_class
        return tuple(np.flatnonzero((top == top[c]) & (parent != parent[c])) for c in range(self.n_classes))

    @functools.cached_property
    def top_level_of_class(self) -> np.ndarray:
        """For each class, the index into :attr:`top_level` of its group."""
        out = np.full(self.n_classes, -1, dtype=np.int64)
        for g, name in enumerate(self.top_level):
            out[self.classes_under(name)] = g
        return out

    def render(self, class_idx: int, rng: np.random.Generator) -> np.ndarray:
        """One image of class ``class_idx``: ``(48, 48, 3)`` uint8."""
        return render(class_idx, rng, self)


def _build_spec() -> DemoSpec:
    names: list[str] = []
    parent: list[int] = []
    class_names: list[str] = []
    leaf_class: list[int] = []

    def visit(node: tuple | str, parent_id: int) -> None:
        my_id = len(names)
        parent.append(parent_id)
        if isinstance(node, str):
            names.append(node)
            leaf_class.append(len(class_names))
            class_names.append(node)
            return
        label, children = node
        names.append(label)
        leaf_class.append(-1)
        for child in children:
            visit(child, my_id)

    visit(TREE, -1)
    classes = tuple(
        ClassSpec(n, _CLASS_KINDS[n][0], MappingProxyType(dict(_CLASS_KINDS[n][1])))
        for n in class_names
    )
    parent_arr = np.array(parent, dtype=np.int64)
    class_arr = np.array(leaf_class, dtype=np.int64)
    parent_arr.setflags(write=False)
    class_arr.setflags(write=False)
    return DemoSpec(
        classes=classes,
        node_names=tuple(names),
        parent=parent_arr,
        class_index=class_arr,
        top_level=tuple(child[0] for child in TREE[1]),
    )


@functools.cache
def default_spec() -> DemoSpec:
    """The demo's data set description (built once, immutable)."""
    return _build_spec()


# -- colours ------------------------------------------------------------------


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of RGB values in the last axis (any numeric dtype)."""
    return np.asarray(rgb, dtype=np.float32) @ LUMA


def equal_luma_colour(hue: float, target: float = COLOUR_LUMA) -> np.ndarray:
    """The most saturated RGB colour of ``hue`` whose luma is ``target``.

    Luma is linear in HSV value, so for each saturation the value that hits
    the target is one division; saturation is lowered only when even full
    value is too dark (pure blue cannot reach luma 120).
    """
    for sat in np.linspace(0.85, 0.0, 86):
        unit = np.array(colorsys.hsv_to_rgb(hue, sat, 1.0), dtype=np.float32) * 255
        value = target / float(luma(unit))
        if value <= 1.0:
            return unit * value
    raise ValueError(f"no colour of hue {hue} has luma {target}")


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    h, s, v = rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.25, 1.0)
    return np.array(colorsys.hsv_to_rgb(h, s, v), dtype=np.float32) * 255


def _contrasting(rng: np.random.Generator, other: np.ndarray, gap: float = 60.0,
                 sat_max: float = 1.0) -> np.ndarray:
    """A random colour whose luma differs from ``other``'s by at least ``gap``.

    Contrast is required in *luma* so every shape stays visible when the image
    is turned to grayscale (grayscale must be in-distribution for shapes).
    """
    other_luma = float(luma(other))
    for _ in range(100):
        h, s = rng.random(), rng.uniform(0.0, sat_max)
        c = np.array(colorsys.hsv_to_rgb(h, s, rng.uniform(0.1, 1.0)), dtype=np.float32) * 255
        if abs(float(luma(c)) - other_luma) >= gap:
            return c
    # dark or bright fallback: always far enough from a mid-luma colour
    return np.full(3, 20.0 if other_luma > 128 else 235.0, dtype=np.float32)


# -- drawing helpers ----------------------------------------------------------


def _rotate(points: np.ndarray, angle: float, centre: np.ndarray) -> np.ndarray:
    """Rotate ``(n, 2)`` points (image coords, y down) by ``angle`` radians
    counter-clockwise as seen on screen, then move them to ``centre``."""
    c, s = math.cos(angle), math.sin(angle)
    x, y = points[:, 0], points[:, 1]
    return np.stack([x * c + y * s, -x * s + y * c], axis=1) + centre


def _ellipse(rx: float, ry: float, n: int = 24, cx: float = 0.0, cy: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _stadium(length: float, width: float, n: int = 10) -> np.ndarray:
    """Rounded rectangle along x: a capsule outline, centred at the origin."""
    r, half = width / 2, max(length / 2 - width / 2, 0.0)
    t1 = np.linspace(-np.pi / 2, np.pi / 2, n)
    t2 = t1 + np.pi
    right = np.stack([half + r * np.cos(t1), r * np.sin(t1)], axis=1)
    left = np.stack([-half + r * np.cos(t2), r * np.sin(t2)], axis=1)
    return np.concatenate([right, left])


class _Layers:
    """Masks drawn at supersampled resolution, each with its own colour.

    Drawers add polygons and circles to layers; :meth:`composite` blends them
    over a background in order.  Keeping masks apart from colours is what
    lets the same shape code serve every colour scheme, and lets a whole
    drawing be shrunk ('seen from afar') after the fact.
    """

    def __init__(self) -> None:
        self._masks: list[tuple[Image.Image, np.ndarray]] = []

    def layer(self, colour: np.ndarray) -> ImageDraw.ImageDraw:
        """A new mask, painted with ``colour``; draw on it with fill 255."""
        img = Image.new("L", (_BIG, _BIG), 0)
        self._masks.append((img, np.asarray(colour, dtype=np.float32)))
        return ImageDraw.Draw(img)

    def composite(self, background: Image.Image, scale: float = 1.0) -> Image.Image:
        """Blend every layer's colour through its mask onto ``background``
        (in place; PIL's masked paste is the alpha blend, done in C).

        ``scale < 1`` shrinks the drawing about the image centre: the object
        seen from further away, on the same background.
        """
        side = max(int(round(SIZE * scale)), 1)
        offset = ((SIZE - side) // 2,) * 2
        for img, colour in self._masks:
            if side == SIZE:
                background.paste(_rgb(colour), mask=img.reduce(_SS))
            else:
                mask = Image.new("L", (SIZE, SIZE), 0)
                mask.paste(img.resize((side, side), Image.BOX), offset)
                background.paste(_rgb(colour), mask=mask)
        return background


Draw = Callable[[np.random.Generator, Mapping[str, Any], _Layers, np.ndarray, Any], None]
"""A drawer: ``(rng, params, layers, fg colour, background)`` adds the shape
of one class to ``layers``; the background (a colour for artifacts, an image
for natural classes) is there for parts that must contrast with it."""


def _poly(draw: ImageDraw.ImageDraw, points: np.ndarray, fill: int = 255) -> None:
    draw.polygon([tuple(p) for p in (points * _SS).tolist()], fill=fill)


def _circle(draw: ImageDraw.ImageDraw, centre: np.ndarray, r: float, fill: int = 255) -> None:
    cx, cy = centre * _SS
    rr = r * _SS
    draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=fill)


def _line(draw: ImageDraw.ImageDraw, a: np.ndarray, b: np.ndarray, width: float) -> None:
    draw.line([tuple(a * _SS), tuple(b * _SS)], fill=255, width=max(int(round(width * _SS)), 1))


def _centre(rng: np.random.Generator, jitter: float = 4.0) -> np.ndarray:
    return SIZE / 2 + rng.uniform(-jitter, jitter, 2)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return xx - SIZE / 2 + 0.5, yy - SIZE / 2 + 0.5


_XX, _YY = _grid()


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    r, g, b = np.clip(np.asarray(colour) + 0.5, 0, 255).astype(int).tolist()
    return r, g, b


def _smooth_field(rng: np.random.Generator, cells: int) -> Image.Image:
    """Isotropic-ish smooth noise as an 'L' image: coarse random grid, bicubic up."""
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return coarse.resize((SIZE, SIZE), Image.BICUBIC)


def _mix(c1: np.ndarray, c2: np.ndarray, mask: Image.Image) -> Image.Image:
    """``c1`` where ``mask`` is 0, ``c2`` where it is 255, blended between."""
    return Image.composite(Image.new("RGB", (SIZE, SIZE), _rgb(c2)), Image.new("RGB", (SIZE, SIZE), _rgb(c1)), mask)


# -- backgrounds --------------------------------------------------------------


def _flat_background(colour: np.ndarray) -> Image.Image:
    return Image.new("RGB", (SIZE, SIZE), _rgb(colour))


def _textured_background(rng: np.random.Generator, fg: np.ndarray, water: bool = False) -> Image.Image:
    """Two close colours mixed by smooth noise: the 'natural' look.

    ``water`` adds wavy ripples (random direction and period): the context
    of the sea creatures.  Context shared by a group is what keeps the errors
    on small, ambiguous samples inside that group, as in real photos.
    """
    c1 = _contrasting(rng, fg, gap=70.0, sat_max=0.6)
    c2 = np.clip(c1 + rng.normal(0, 35, 3), 0, 255).astype(np.float32)
    field = _smooth_field(rng, int(rng.integers(4, 8)))
    if water:
        c2 = np.clip(c1 + np.sign(rng.random() - 0.5) * rng.uniform(30, 45), 0, 255).astype(np.float32)
        u, _ = _rotated_coords(rng, 1.0)
        blotch = np.asarray(field, dtype=np.float32) * (1 / 255)
        waves = 0.5 + 0.5 * np.sin(u * (2 * np.pi / rng.uniform(5, 8)) + 4 * blotch)
        field = Image.fromarray((waves * 255).astype(np.uint8))
    return _mix(c1, c2, field)


# -- artifacts: hard edges, flat background -----------------------------------


def _artifact_colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    fg = _random_colour(rng)
    return fg, _contrasting(rng, fg)


def _draw_polygon(rng, params, layers: _Layers, fg, bg) -> None:
    n = params["sides"]
    r = rng.uniform(13, 20)
    angles = np.arange(n) * 2 * np.pi / n + rng.uniform(0, 2 * np.pi)
    radii = r * rng.uniform(0.96, 1.04, n)
    pts = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    _poly(layers.layer(fg), pts + _centre(rng))


def _arrow_points(rng: np.random.Generator) -> np.ndarray:
    """An arrow pointing along +x, centred at the origin."""
    length = rng.uniform(26, 36)
    shaft = rng.uniform(4, 7)
    head_w = rng.uniform(14, 20)
    head_l = rng.uniform(0.35, 0.45) * length
    x0, x1, x2 = -length / 2, length / 2 - head_l, length / 2
    return np.array([
        [x0, -shaft / 2], [x1, -shaft / 2], [x1, -head_w / 2], [x2, 0],
        [x1, head_w / 2], [x1, shaft / 2], [x0, shaft / 2],
    ])


def _chevron_points(rng: np.random.Generator) -> np.ndarray:
    """A thick 'V' lying on its side, tip along +x, centred at the origin."""
    span = rng.uniform(22, 32)
    depth = rng.uniform(0.45, 0.7) * span
    thick = rng.uniform(5, 8)
    tip = np.array([depth / 2, 0.0])
    top = np.array([-depth / 2, -span / 2])
    bottom = np.array([-depth / 2, span / 2])
    return np.array([top, tip, bottom, bottom - [thick, 0], tip - [thick, 0], top - [thick, 0]])


def _oriented(points_fn: Callable[[np.random.Generator], np.ndarray]) -> Draw:
    """A drawer for a shape at a *fixed* orientation (``params["angle"]``,
    degrees counter-clockwise from +x) give or take 12 degrees — the only
    classes not drawn at a random rotation."""

    def draw(rng, params, layers: _Layers, fg, bg) -> None:
        angle = math.radians(params["angle"] + rng.uniform(-12, 12))
        _poly(layers.layer(fg), _rotate(points_fn(rng), angle, _centre(rng)))

    return draw


_draw_arrow = _oriented(_arrow_points)
_draw_chevron = _oriented(_chevron_points)


def _draw_ring(rng, params, layers: _Layers, fg, bg) -> None:
    c, r = _centre(rng), rng.uniform(12, 19)
    draw = layers.layer(fg)
    _circle(draw, c, r)
    _circle(draw, c, r * rng.uniform(0.55, 0.75), fill=0)


def _draw_double_ring(rng, params, layers: _Layers, fg, bg) -> None:
    c, r = _centre(rng), rng.uniform(14, 19)
    draw = layers.layer(fg)
    w = r * rng.uniform(0.16, 0.22)
    _circle(draw, c, r)
    _circle(draw, c, r - w, fill=0)
    _circle(draw, c, r - 2 * w)
    _circle(draw, c, r - 3 * w, fill=0)


def _draw_bullseye(rng, params, layers: _Layers, fg, bg) -> None:
    c, r = _centre(rng), rng.uniform(13, 19)
    draw = layers.layer(fg)
    _circle(draw, c, r)
    _circle(draw, c, r * rng.uniform(0.65, 0.75), fill=0)
    _circle(draw, c, r * rng.uniform(0.3, 0.4))


def _draw_broken_ring(rng, params, layers: _Layers, fg, bg) -> None:
    """A ring with a wedge cut out (a Landolt C) at a random angle."""
    c, r = _centre(rng), rng.uniform(12, 19)
    draw = layers.layer(fg)
    _circle(draw, c, r)
    _circle(draw, c, r * rng.uniform(0.55, 0.7), fill=0)
    a, half = rng.uniform(0, 2 * np.pi), math.radians(rng.uniform(25, 40))
    wedge = np.array([[0.0, 0.0], [2 * r, -2 * r * math.tan(half)], [2 * r, 2 * r * math.tan(half)]])
    _poly(draw, _rotate(wedge, a, c), fill=0)


def _draw_missile(rng, params, layers: _Layers, fg, bg) -> None:
    """Body + pointed nose + two tail fins; the redundant pair's generator."""
    length, width = rng.uniform(28, 38), rng.uniform(6, 8.5)
    nose = rng.uniform(0.22, 0.3) * length
    x0, x1, x2 = -length / 2, length / 2 - nose, length / 2
    fin = rng.uniform(4, 6.5)
    body = np.array([[x0, -width / 2], [x1, -width / 2], [x2, 0], [x1, width / 2], [x0, width / 2]])
    fin_top = np.array([[x0, -width / 2], [x0 + 0.25 * length, -width / 2], [x0 - 1, -width / 2 - fin]])
    fin_bot = fin_top * [1, -1]
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng)
    draw = layers.layer(fg)
    for part in (body, fin_top, fin_bot):
        _poly(draw, _rotate(part, angle, c))


def _draw_capsule(rng, params, layers: _Layers, fg, bg) -> None:
    pts = _stadium(rng.uniform(24, 36), rng.uniform(9, 13))
    _poly(layers.layer(fg), _rotate(pts, rng.uniform(0, 2 * np.pi), _centre(rng)))


def _draw_dumbbell(rng, params, layers: _Layers, fg, bg) -> None:
    half, r = rng.uniform(10, 14), rng.uniform(5, 7.5)
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    ends = _rotate(np.array([[-half, 0.0], [half, 0.0]]), angle, c)
    draw = layers.layer(fg)
    _line(draw, ends[0], ends[1], rng.uniform(2.5, 4))
    for e in ends:
        _circle(draw, e, r)


def _draw_bolt(rng, params, layers: _Layers, fg, bg) -> None:
    """A shaft with a wide flat head at one end: a T."""
    length, width = rng.uniform(22, 30), rng.uniform(5, 7)
    head_w, head_t = rng.uniform(14, 18), rng.uniform(5, 7)
    shaft = np.array([[-length / 2, -width / 2], [length / 2, -width / 2], [length / 2, width / 2], [-length / 2, width / 2]])
    head = np.array([[-length / 2 - head_t, -head_w / 2], [-length / 2, -head_w / 2],
                     [-length / 2, head_w / 2], [-length / 2 - head_t, head_w / 2]])
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng)
    draw = layers.layer(fg)
    for part in (shaft, head):
        _poly(draw, _rotate(part + [head_t / 2, 0], angle, c))


# -- natural: soft edges, textured background ---------------------------------


def _blob_points(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A smooth closed random outline (low-order Fourier radius)."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    r = np.ones_like(t)
    for k in (2, 3, 4):
        r += rng.uniform(0, 0.22 / k * 2) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    return np.stack([radius * r * np.cos(t), radius * r * np.sin(t)], axis=1)


def _draw_blob(rng, params, layers: _Layers, fg, bg) -> None:
    _poly(layers.layer(fg), _blob_points(rng, rng.uniform(10, 15)) + _centre(rng))


def _petal(length: float, width: float, angle: float, centre: np.ndarray, offset: float) -> np.ndarray:
    pts = _ellipse(length / 2, width / 2, 12, cx=offset + length / 2)
    return _rotate(pts, angle, centre)


def _draw_flower(rng, params, layers: _Layers, fg, bg) -> None:
    """Petals around a disc; ``params`` bound petal count and width ratio."""
    lo, hi = params["petals"]
    n = int(rng.integers(lo, hi + 1))
    w_ratio = rng.uniform(*params["width"])
    c, core = _centre(rng, 3), rng.uniform(3.5, 5.0)
    length = rng.uniform(10, 14)
    width = length * w_ratio * 0.6
    phase = rng.uniform(0, 2 * np.pi)
    draw = layers.layer(fg)
    for i in range(n):
        _poly(draw, _petal(length, width, phase + 2 * np.pi * i / n, c, core * 0.6))
    _circle(layers.layer(_contrasting(rng, fg, gap=50)), c, core)


def _draw_leaf(rng, params, layers: _Layers, fg, bg) -> None:
    length, width = rng.uniform(30, 40), rng.uniform(12, 18)
    t = np.linspace(0, np.pi, 14)
    upper = np.stack([length / 2 * np.cos(t), -width / 2 * np.sin(t) ** 1.4], axis=1)
    outline = np.concatenate([upper, (upper * [1, -1])[::-1][1:-1]])
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    _poly(layers.layer(fg), _rotate(outline, angle, c))
    rib = _rotate(np.array([[-length / 2 - 4, 0.0], [length / 2 * 0.8, 0.0]]), angle, c)
    _line(layers.layer(_contrasting(rng, fg, gap=45)), rib[0], rib[1], 1.6)


def _draw_tree(rng, params, layers: _Layers, fg, bg) -> None:
    trunk_l, trunk_w = rng.uniform(12, 17), rng.uniform(4, 6)
    crown = rng.uniform(10, 13)
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    trunk = np.array([[-trunk_l, -trunk_w / 2], [2, -trunk_w / 2], [2, trunk_w / 2], [-trunk_l, trunk_w / 2]])
    trunk_colour = _contrasting(rng, np.asarray(bg, dtype=np.float32).reshape(-1, 3).mean(axis=0), gap=60)
    _poly(layers.layer(trunk_colour), _rotate(trunk + [-crown * 0.4, 0], angle, c))
    draw = layers.layer(fg)
    crown_pts = _blob_points(rng, crown) + [crown * 0.6, 0]
    _poly(draw, _rotate(crown_pts, angle, c))


def _draw_cactus(rng, params, layers: _Layers, fg, bg) -> None:
    length, width = rng.uniform(32, 40), rng.uniform(7, 9)
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    draw = layers.layer(fg)
    _poly(draw, _rotate(_stadium(length, width), angle, c))
    for side in (-1, 1):
        if rng.random() < 0.8:
            x = rng.uniform(-4, 6)
            arm_out, arm_up = rng.uniform(8, 11), rng.uniform(7, 11)
            # elbow: sideways stub, then an upright segment parallel to the trunk
            stub = _stadium(arm_out + width * 0.7, width * 0.8)
            stub = np.stack([stub[:, 1] + x, stub[:, 0] * side + side * arm_out / 2], axis=1)
            up = _stadium(arm_up + width * 0.8, width * 0.8) + [x + arm_up / 2, 0]
            up[:, 1] += side * arm_out
            _poly(draw, _rotate(stub, angle, c))
            _poly(draw, _rotate(up, angle, c))


def _draw_shell(rng, params, layers: _Layers, fg, bg) -> None:
    """A scallop: fan of radial ribs with gaps of background between them."""
    r = rng.uniform(15, 20)
    spread = rng.uniform(1.9, 2.5)
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    c = c + _rotate(np.array([[-r * 0.45, 0.0]]), angle, np.zeros(2))[0]
    t = np.linspace(-spread / 2, spread / 2, 20)
    fan = np.concatenate([[[0.0, 0.0]], np.stack([r * np.cos(t), r * np.sin(t)], axis=1)])
    _poly(layers.layer(fg), _rotate(fan, angle, c))
    ribs = layers.layer(_contrasting(rng, fg, gap=45))
    for a in np.linspace(-spread / 2, spread / 2, int(rng.integers(6, 9)))[1:-1]:
        tip = np.array([[r * 0.95 * math.cos(a), r * 0.95 * math.sin(a)]])
        _line(ribs, _rotate(np.zeros((1, 2)), angle, c)[0], _rotate(tip, angle, c)[0], 1.3)
    hinge = np.array([[-3.0, -4.0], [3.0, -3.0], [3.0, 3.0], [-3.0, 4.0]])
    _poly(layers.layer(fg), _rotate(hinge, angle, c))


def _draw_starfish(rng, params, layers: _Layers, fg, bg) -> None:
    r_out, r_in = rng.uniform(15, 20), rng.uniform(5, 7)
    phase = rng.uniform(0, 2 * np.pi)
    a = phase + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r_out * rng.uniform(0.85, 1.1, 10), r_in)
    pts = np.stack([radii * np.cos(a), radii * np.sin(a)], axis=1)
    _poly(layers.layer(fg), pts + _centre(rng, 3))


def _draw_coral(rng, params, layers: _Layers, fg, bg) -> None:
    """Branches forking from a base: a random binary tree of thick strokes."""
    draw = layers.layer(fg)
    angle, c = rng.uniform(0, 2 * np.pi), _centre(rng, 3)
    base = c - 14 * np.array([math.cos(angle), -math.sin(angle)])
    stack = [(base, angle, 11.0, 3.6, 0)]
    while stack:
        p, a, length, w, depth = stack.pop()
        q = p + length * np.array([math.cos(a), -math.sin(a)])
        _line(draw, p, q, w)
        _circle(draw, q, w / 2)
        if depth < 3:
            for turn in (-1, 1):
                stack.append((q, a + turn * rng.uniform(0.35, 0.8), length * 0.72, w * 0.8, depth + 1))


# -- textures: fill the frame -------------------------------------------------


def _rotated_coords(rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by a random angle and divided by ``scale``
    (a texture seen from further away has a shorter period)."""
    a = rng.uniform(0, 2 * np.pi)
    c, s = math.cos(a) / scale, math.sin(a) / scale
    return _XX * c + _YY * s, -_XX * s + _YY * c


def _stripes(rng: np.random.Generator, scale: float) -> np.ndarray:
    u, _ = _rotated_coords(rng, scale)
    period = rng.uniform(7, 12)
    return 0.5 + 0.5 * np.tanh(3 * np.sin(2 * np.pi * u / period + rng.uniform(0, 2 * np.pi)))


def _checker(rng: np.random.Generator, scale: float) -> np.ndarray:
    u, v = _rotated_coords(rng, scale)
    period = rng.uniform(10, 16)
    ph = rng.uniform(0, 2 * np.pi, 2)
    return 0.5 + 0.5 * np.tanh(3 * np.sin(2 * np.pi * u / period + ph[0]) * np.sin(2 * np.pi * v / period + ph[1]) * 2)


def _dots(rng: np.random.Generator, scale: float) -> np.ndarray:
    u, v = _rotated_coords(rng, scale)
    period = rng.uniform(8, 12)
    du = (u + rng.uniform(0, period)) % period - period / 2
    dv = (v + rng.uniform(0, period)) % period - period / 2
    d = np.sqrt(du**2 + dv**2)
    return 1 / (1 + np.exp((d - period * rng.uniform(0.22, 0.3)) * 2.5))


def _speckle(rng: np.random.Generator, scale: float) -> np.ndarray:
    t = np.asarray(_smooth_field(rng, int(rng.integers(14, 20) / scale)), dtype=np.float32) / 255
    return 1 / (1 + np.exp(-(t - 0.5) * 14))


_TEXTURES: Mapping[str, Callable[[np.random.Generator, float], np.ndarray]] = {
    "stripes": _stripes, "checker": _checker, "dots": _dots, "speckle": _speckle,
}

_ARTIFACT_DRAW: Mapping[str, Draw] = {
    "polygon": _draw_polygon, "arrow": _draw_arrow, "chevron": _draw_chevron,
    "ring": _draw_ring, "double_ring": _draw_double_ring, "bullseye": _draw_bullseye,
    "broken_ring": _draw_broken_ring, "missile": _draw_missile, "capsule": _draw_capsule,
    "dumbbell": _draw_dumbbell, "bolt": _draw_bolt,
}

_WATER_KINDS = frozenset({"shell", "starfish", "coral"})
"""Generators drawn on a rippled 'water' background.  The anemone (flower
generator) and the pebble (blob generator) deliberately lack it: they must
share everything with the classes they are planted against."""

_NATURAL_DRAW: Mapping[str, Draw] = {
    "blob": _draw_blob, "flower": _draw_flower, "leaf": _draw_leaf, "tree": _draw_tree,
    "cactus": _draw_cactus, "shell": _draw_shell, "starfish": _draw_starfish,
    "coral": _draw_coral,
}


def _blob_colour(rng: np.random.Generator, hue: float | None) -> np.ndarray:
    """Colour-group hue (near-equal luma) or, for ``hue=None``, pebble gray."""
    if hue is None:
        gray = rng.uniform(70, 175)
        return np.clip(gray + rng.normal(0, 4, 3), 0, 255).astype(np.float32)
    base = _colour_of_hue(round(hue, 4))
    return np.clip(base * rng.uniform(0.95, 1.05), 0, 255).astype(np.float32)


@functools.cache
def _colour_of_hue(hue: float) -> np.ndarray:
    c = equal_luma_colour(hue)
    c.setflags(write=False)
    return c


def render(class_idx: int, rng: np.random.Generator, spec: DemoSpec | None = None) -> np.ndarray:
    """Draw one image of class ``class_idx`` as ``(48, 48, 3)`` uint8.

    Deterministic given the state of ``rng``.  Every non-colour class may come
    out fully desaturated (:data:`DESATURATED_FRACTION`), and every class not
    in the orientation group is drawn at a uniformly random rotation.
    """
    spec = spec or default_spec()
    cls = spec.classes[class_idx]
    layers = _Layers()
    scale = 1.0 if cls.params.get("near_only") else _distance_scale(rng)
    if cls.kind in _TEXTURES:
        t = _TEXTURES[cls.kind](rng, scale)
        c1 = _random_colour(rng)
        c2 = _contrasting(rng, c1, gap=70)
        mask = Image.fromarray((t * 255 + 0.5).astype(np.uint8))
        img = _mix(c1, c2, mask).filter(ImageFilter.BoxBlur(rng.uniform(0.4, 0.8)))
        grain = 7.0
    elif cls.kind in _NATURAL_DRAW:
        if cls.kind == "blob":
            fg = _blob_colour(rng, cls.params["hue"])
        else:
            fg = _random_colour(rng)
        bg = _textured_background(rng, fg, water=cls.kind in _WATER_KINDS)
        _NATURAL_DRAW[cls.kind](rng, cls.params, layers, fg, bg)
        # soft edges: natural things have no crisp outlines
        img = layers.composite(bg, scale).filter(ImageFilter.BoxBlur(rng.uniform(0.6, 1.0)))
        grain = 7.0
    else:
        fg, bg = _artifact_colours(rng)
        _ARTIFACT_DRAW[cls.kind](rng, cls.params, layers, fg, bg)
        img = layers.composite(_flat_background(bg), scale)
        grain = 2.5
    desaturate = cls.kind != "blob" and rng.random() < DESATURATED_FRACTION
    y, x = rng.integers(0, _NOISE.shape[0] - SIZE, 2)
    noise = _NOISE[y : y + SIZE, x : x + SIZE] * grain
    if desaturate:
        gray = np.asarray(img.convert("L"), dtype=np.float32)[..., None] + noise[..., :1]
        return np.repeat(np.clip(gray + 0.5, 0, 255).astype(np.uint8), 3, axis=2)
    return np.clip(np.asarray(img, dtype=np.float32) + noise + 0.5, 0, 255).astype(np.uint8)


def _distance_scale(rng: np.random.Generator) -> float:
    """How much smaller than usual this sample is drawn.

    Most samples are drawn at full size; :data:`FAR_FRACTION` of them are
    seen 'from afar', at half size, where the details separating siblings
    (the number of polygon sides, a ring's inner circle, petal shapes) blur
    together at the model's 32 px input but the look of the group (flat
    background and hard edges vs. texture and soft edges) survives.  That is
    what makes a trained network's remaining errors fall *inside* mid-level
    groups — the nested blocks — however long it trains.
    """
    if rng.random() < FAR_FRACTION:
        return float(rng.uniform(*FAR_SCALE))
    return 1.0


_NOISE = np.random.default_rng(20170101).standard_normal((160, 160, 3), dtype=np.float32)
"""A fixed bank of unit Gaussian noise; each image adds a random crop of it.
Cropping costs nothing where drawing 7k normals per image was ~10% of the
render time, and the crops are varied enough that no class can key on them."""


# -- splits -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Split:
    """Images with stored labels; ``true_labels`` differ where ``flipped``."""

    images: np.ndarray       # (N, 48, 48, 3) uint8
    labels: np.ndarray       # (N,) int64, stored labels (possibly noisy)
    true_labels: np.ndarray  # (N,) int64, the class actually drawn
    flipped: np.ndarray      # (N,) bool

    def __len__(self) -> int:
        return len(self.labels)


def make_split(
    spec: DemoSpec,
    n_per_class: int,
    seed: int | Sequence[int],
    label_noise: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> Split:
    """Render ``n_per_class`` images of every class, in class-major order.

    Each class draws from its own child of ``SeedSequence(seed)``, so the
    images of a class do not depend on how many other classes exist.  With
    ``label_noise > 0`` exactly ``round(label_noise * N)`` samples get their
    stored label flipped: to a random sibling class, or with probability
    :data:`COUSIN_FLIP_SHARE` to a random cousin (annotators confuse the most
    similar things most often, and flips across the top level would muddy
    the blocks the demo is meant to show).  ``progress`` is called with the
    number of images rendered after each class.
    """
    root = np.random.SeedSequence(seed)
    class_seeds = root.spawn(spec.n_classes + 1)
    n = spec.n_classes * n_per_class
    images = np.empty((n, SIZE, SIZE, 3), dtype=np.uint8)
    for c, ss in enumerate(class_seeds[:-1]):
        rng = np.random.default_rng(ss)
        for i in range(n_per_class):
            images[c * n_per_class + i] = render(c, rng, spec)
        if progress is not None:
            progress(n_per_class)
    true_labels = np.repeat(np.arange(spec.n_classes, dtype=np.int64), n_per_class)
    labels = true_labels.copy()
    flipped = np.zeros(n, dtype=bool)
    if label_noise > 0:
        rng = np.random.default_rng(class_seeds[-1])
        chosen = rng.choice(n, size=int(round(label_noise * n)), replace=False)
        for i in np.sort(chosen):
            c = true_labels[i]
            cousin = rng.random() < COUSIN_FLIP_SHARE and len(spec.cousins_of_class[c]) > 0
            labels[i] = rng.choice(spec.cousins_of_class[c] if cousin else spec.siblings_of_class[c])
        flipped[chosen] = True
    return Split(images=images, labels=labels, true_labels=true_labels, flipped=flipped)


def ground_truth(spec: DemoSpec, eval_split: Split) -> dict[str, Any]:
    """What was planted in the data, JSON-serialisable.

    Stored in the cache for tests and for the demo's own self-check; the
    analysis and the UI must find these things *without* reading this.
    """
    mislabeled = np.flatnonzero(eval_split.flipped)
    return {
        "top_level_groups": list(spec.top_level),
        "colour_group": spec.colour_group,
        "orientation_group": spec.orientation_group,
        "redundant_pair": [spec.class_id(n) for n in spec.redundant_pair],
        "subclass_pair": {
            "general": spec.class_id(spec.subclass_pair[0]),
            "special": spec.class_id(spec.subclass_pair[1]),
        },
        "mislabeled": {
            "indices": mislabeled.tolist(),
            "true_class": eval_split.true_labels[mislabeled].tolist(),
            "stored_class": eval_split.labels[mislabeled].tolist(),
        },
        "label_noise_rate": spec.label_noise_rate,
    }
