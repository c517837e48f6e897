"""The sample pane: thumbnails of the current selection, grouped by true class.

A label says what is selected (a cell, a node's TP/FN/FP tab, a neuron's
top samples, the mislabel candidates).  The grid shows one tile per true
class (its best-ranked sample and the group's size); Enter opens a group
and shows all of it, Backspace closes it.  The grid holds a fixed set of
tiles, as many as fit, and scrolls by reassigning their images, so only
the thumbnails on screen are ever read and decoded: a 5,000-sample
selection costs what a 6-sample one does.  A tile's border says the
outcome (green: top-1 right, yellow: in the top 5, red: wrong), and the
details lines describe the focused sample in every result set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PIL import Image as PILImage
from rich.text import Text
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ...analysis.sample_selection import OUTCOMES, SampleGroups
from ..bindings import SAMPLE_KEYS, bindings
from ..samples import SampleDetails, Selection
from .thumbnail import HalfcellThumb, halfcell_strips

TILE_WIDTH = 13  # 12 image columns and a gap
TILE_HEIGHT = 8  # 6 image rows, a caption and a gap
OUTCOME_MARK = ("✓", "≈", "✗")
OUTCOME_STYLE = ("green", "yellow", "red")


@dataclass(frozen=True)
class PaneContent:
    """A selection ready to draw, with the callbacks that read samples on demand."""

    selection: Selection
    groups: SampleGroups
    class_names: list[str]
    outcome_of: Callable[[np.ndarray], np.ndarray]  # ids → outcome codes (OUTCOMES)
    thumbnails: Callable[[np.ndarray], np.ndarray]  # ascending ids → (n, H, W, 3) uint8
    details: Callable[[int], SampleDetails]


@dataclass(frozen=True)
class _Item:
    sample: int
    label: int
    count: int  # samples in its group; 1 inside an opened group


def _set_image(widget: Any, image: PILImage.Image | None) -> None:
    """Swap a textual-image widget's picture with a repaint only.

    The library's ``image`` setter also asks for a layout pass of the whole
    screen, which was a third of a cursor key's cost; a tile never changes
    size, so a repaint is enough.  Mirrors the setter of textual-image 0.12
    for PIL images (the only kind the pane passes).
    """
    if widget._renderable is not None:
        widget._renderable.cleanup()
        widget._renderable = None
    widget._image = image
    widget._image_width, widget._image_height = (image.width, image.height) if image is not None else (0, 0)
    widget.refresh()


class Caption(Widget):
    """One line under a thumbnail: outcome mark, class, group size; reversed on the cursor's tile."""

    DEFAULT_CSS = "Caption { width: 12; height: 1; }"

    def __init__(self) -> None:
        super().__init__(classes="tile-caption")
        self.text = Text("")

    def set(self, text: Text) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> Text:
        return self.text


class Tile(Vertical):
    """One thumbnail and its caption, at a fixed size so that changing them never needs a layout pass."""

    def __init__(self, image_class: Any) -> None:
        super().__init__(classes="tile")
        self.image_class = image_class
        self.sample: int | None = None
        self._pending: tuple[int | None, Any, Text] | None = None
        self._picture: Any = None

    def on_mount(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.show(*pending)

    def compose(self) -> ComposeResult:
        if self.image_class is None:
            yield Caption()  # --images off: the sample id stands in for the picture
        elif self.image_class is HalfcellThumb:
            yield HalfcellThumb(classes="tile-image")
        else:
            yield self.image_class(None, classes="tile-image")
        yield Caption()

    def show(self, sample: int | None, picture: Any, caption: Text) -> None:
        """Show a sample (None: an empty slot) and its caption; ``picture`` is what :meth:`ThumbGrid._decode`
        made for this tile's image widget (strips for half cells, a PIL image for textual-image)."""
        if len(self.children) < 2:  # mounted a moment ago, not composed yet: show it once it is
            self._pending = (sample, picture, caption)
            return
        image, label = self.children[0], self.children[1]
        if self.image_class is None:
            image.set(Text("" if sample is None else f"#{sample}", style="dim"))  # type: ignore[attr-defined]
        elif sample != self.sample or picture is not self._picture:
            self._picture = picture
            if isinstance(image, HalfcellThumb):
                image.set_picture(picture)
            else:
                _set_image(image, picture)
        self.sample = sample
        label.set(caption)  # type: ignore[attr-defined]


class ThumbGrid(Widget, can_focus=True):
    """The tiles.  Keys move a cursor over groups (or over an opened group's samples)."""

    BINDINGS = bindings(SAMPLE_KEYS)

    class FocusedSample(Message):
        """The cursor is on a new sample; the pane shows its details."""

        def __init__(self, sample: int | None) -> None:
            super().__init__()
            self.sample = sample

    class TabRequested(Message):
        """``v``: show the selection's next tab (a node's TP → FN → FP)."""

    class OutcomeFilterRequested(Message):
        """``x``: cycle the result-set filter."""

    def __init__(self, image_class: Any, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.image_class = image_class
        self.content: PaneContent | None = None
        self.items: list[_Item] = []
        self.outcome: np.ndarray = np.zeros(0, dtype=np.int8)
        self.opened: int | None = None  # index of the opened group
        self.cursor = 0
        self.top = 0  # first visible item
        self.columns = 1
        self.rows = 1
        self._images: LRUCache[int, Any] = LRUCache(1024)

    async def on_resize(self) -> None:
        """As many tiles as fit, mounted once per size: scrolling only swaps their pictures."""
        columns = max(1, self.size.width // TILE_WIDTH)
        rows = max(1, self.size.height // TILE_HEIGHT)
        if (columns, rows) != (self.columns, self.rows) or not self.children:
            self.columns, self.rows = columns, rows
            self.styles.grid_size_columns = columns
            await self.remove_children()
            await self.mount_all([Tile(self.image_class) for _ in range(self.capacity)])
            self._scroll_to_cursor()
        self._draw()

    @property
    def capacity(self) -> int:
        return self.columns * self.rows

    # -- content ------------------------------------------------------------------
    def show(self, content: PaneContent) -> None:
        """A new selection: groups, cursor on the first."""
        self.content = content
        self.opened = None
        self._set_items(0)

    def _set_items(self, cursor: int) -> None:
        content = self.content
        if content is None:
            self.items = []
        elif self.opened is None:
            g = content.groups
            self.items = [_Item(int(s), int(c), int(n)) for s, c, n in zip(g.representative, g.classes, g.counts)]
        else:
            members = content.groups.members[self.opened]
            label = int(content.groups.classes[self.opened])
            self.items = [_Item(int(s), label, 1) for s in members]
        ids = np.array([i.sample for i in self.items], dtype=np.int64)
        self.outcome = content.outcome_of(ids) if content is not None and len(ids) else np.zeros(0, np.int8)
        self.cursor = min(cursor, max(len(self.items) - 1, 0))
        self.top = 0
        self._scroll_to_cursor()
        self._draw()
        self.post_message(self.FocusedSample(self.focused_sample))

    @property
    def focused_sample(self) -> int | None:
        return self.items[self.cursor].sample if self.items else None

    # -- drawing ------------------------------------------------------------------
    def _scroll_to_cursor(self) -> None:
        cols, cap = self.columns, self.capacity
        if self.cursor < self.top:
            self.top = (self.cursor // cols) * cols
        elif self.cursor >= self.top + cap:
            self.top = (self.cursor // cols - self.rows + 1) * cols

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        visible = self.items[self.top : self.top + self.capacity]
        images = self._decode([i.sample for i in visible])
        names = self.content.class_names if self.content else []
        for slot, tile in enumerate(self.query(Tile)):
            if slot >= len(visible):
                tile.show(None, None, Text(""))
                continue
            item, at = visible[slot], self.top + slot
            outcome = int(self.outcome[at]) if at < len(self.outcome) else 2
            count = f" ×{item.count}" if item.count > 1 else ""
            name = names[item.label][: max(1, 10 - len(count))]
            caption = Text.assemble((OUTCOME_MARK[outcome] + " ", f"bold {OUTCOME_STYLE[outcome]}"), name,
                                    (count, "bold"))
            if at == self.cursor and self.has_focus:
                caption.stylize("reverse")
            tile.show(item.sample, images.get(item.sample), caption)

    def _decode(self, samples: list[int]) -> dict[int, Any]:
        """Pictures of the visible samples (half-cell strips, or PIL images for textual-image), cached;
        reads only the thumbnails not decoded yet, in one ascending read."""
        if self.image_class is None or self.content is None:
            return {}
        missing = sorted({s for s in samples if self._images.get(s) is None})
        if missing:
            pixels = self.content.thumbnails(np.array(missing, dtype=np.int64))
            for sample, array in zip(missing, pixels):
                if self.image_class is HalfcellThumb:
                    self._images[sample] = halfcell_strips(array, TILE_WIDTH - 1, TILE_HEIGHT - 2)
                else:
                    self._images[sample] = PILImage.fromarray(np.ascontiguousarray(array))
        return {s: self._images[s] for s in samples if self._images.get(s) is not None}

    def on_focus(self) -> None:
        self._draw()

    def on_blur(self) -> None:
        self._draw()

    # -- keys -----------------------------------------------------------------------
    def action_move(self, rows: int, columns: int) -> None:
        if not self.items:
            return
        target = min(max(self.cursor + rows * self.columns + columns, 0), len(self.items) - 1)
        if target != self.cursor:
            self.cursor = target
            self._scroll_to_cursor()
            self._draw()
            self.post_message(self.FocusedSample(self.focused_sample))

    def action_edge(self, last: int) -> None:
        self.action_move(0, (len(self.items) if last else -len(self.items)))

    def action_open(self) -> None:
        if self.opened is None and self.items and self.items[self.cursor].count > 1:
            self.opened = self.cursor
            self._set_items(0)

    def action_close(self) -> None:
        if self.opened is not None:
            back, self.opened = self.opened, None
            self._set_items(back)

    def action_next_tab(self) -> None:
        self.post_message(self.TabRequested())

    def action_outcome_filter(self) -> None:
        self.post_message(self.OutcomeFilterRequested())


class SamplePane(Vertical):
    """Title, tabs, the grid and the focused sample's details."""

    def __init__(self, image_class: Any, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.image_class = image_class

    def compose(self) -> ComposeResult:
        yield Static("", id="samples-title")
        yield Static("", id="samples-tabs")
        yield ThumbGrid(self.image_class, id="samples-grid")
        yield Static("", id="samples-details")

    @property
    def grid(self) -> ThumbGrid:
        return self.query_one(ThumbGrid)

    def show(self, content: PaneContent) -> None:
        s = content.selection
        title = Text.assemble((s.kind.capitalize() + " ", "bold underline"), s.title)
        title.append(f"\n{_count(len(s.ids), 'sample')} · {_count(len(content.groups), 'class')}", style="dim")
        if s.note:
            title.append(f"\n{s.note}", style="dim")
        self.query_one("#samples-title", Static).update(title, layout=False)  # fixed heights: no layout pass
        tabs = Text()
        for i, (label, count) in enumerate(s.tabs):
            tabs.append(f" {label} {count:,} ", style="bold reverse" if i == s.tab else "dim")
            tabs.append(" ")
        self.query_one("#samples-tabs", Static).update(tabs, layout=False)
        self.grid.show(content)

    def on_thumb_grid_focused_sample(self, message: ThumbGrid.FocusedSample) -> None:
        content = self.grid.content
        text = Text()
        if message.sample is not None and content is not None:
            text = details_text(content.details(message.sample))
        self.query_one("#samples-details", Static).update(text, layout=False)


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n:,} {noun if n == 1 else plural}"


def details_text(d: SampleDetails) -> Text:
    """The focused sample in a few lines: id and source, true class, top 5, outcome per result set."""
    text = Text.assemble((f"#{d.sample} ", "bold"), (d.source, "dim"), "\n", ("true ", "dim"), (d.true, "bold"))
    text.append("\n")
    for i, (name, prob) in enumerate(d.top):
        style = "green" if name == d.true else ""
        text.append(f"{i + 1} {name[:16]:<16} {prob:5.1%}\n", style=style)
    for name, outcome in d.outcomes:
        colour = {"top-1": "green", "top-5": "yellow"}.get(outcome, "red")
        text.append(f"{OUTCOME_MARK[OUTCOMES.index(outcome)]} {name}  ", style=colour)
    return text
