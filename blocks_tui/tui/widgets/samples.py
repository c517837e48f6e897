"""The sample pane: thumbnails of the current selection, grouped by true class.

A label says what is selected (a cell, a node's TP/FN/FP tab, a neuron's
top samples, the mislabel candidates).  The grid shows one tile per true
class (its best-ranked sample and the group's size); Enter opens a group
and shows all of it, Backspace closes it.  The grid holds a fixed set of
tiles, as many as fit, and scrolls by reassigning their images, so only
the thumbnails on screen are ever read and decoded: a 5,000-sample
selection costs what a 6-sample one does.  A tile's caption marks the
outcome (green ✓: top-1 right, yellow ≈: in the top 5, red ✗: wrong),
and the details lines describe the focused sample in every result set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image as PILImage
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ...analysis.sample_selection import OUTCOMES
from ...errors import CacheError
from ...safe_text import printable
from ...short_names import distinct_shortenings
from ..bindings import SAMPLE_KEYS, bindings
from ..images import ImageBackend
from ..kitty_graphics import KittyPlacements
from ..samples import OUTCOME_MARK, PaneContent, SampleDetails, fit_outcomes
from .thumbnail import HALFCELL_TILE, graphics_picture, graphics_tile, halfcell_strips

TILE_GAP = 1  # columns between tiles
CAPTION_ROWS = 2  # a caption and a gap under each picture
OUTCOME_STYLE = dict(zip(OUTCOMES, ("green", "yellow", "red")))
DETAILS_OUTCOME_LINES = 2  # the details block's last lines: every result set's outcome, or as many as fit


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
    for PIL images (the only kind the pane passes).  A Sixel widget draws
    through a child that holds its own copy of the picture (the setter
    rebuilds that child); here the child is handed the new picture, or
    the old one stayed on screen, and before the first one none at all.
    """
    if widget._renderable is not None:
        widget._renderable.cleanup()
        widget._renderable = None
    widget._image = image
    widget._image_width, widget._image_height = (image.width, image.height) if image is not None else (0, 0)
    for child in widget.children:  # textual-image's Sixel widget: one _ImageSixelImpl
        child.image = image
        child._cached_sixels = None
        child.refresh()
    widget.refresh()


@dataclass(frozen=True)
class _TileView:
    """What one tile shows: a sample (None: an empty slot), its picture and its caption."""

    sample: int | None
    picture: Any  # half-cell strips, a PIL image for textual-image, or None
    caption: Text


_EMPTY = _TileView(None, None, Text(""))


class Caption(Widget):
    """One line under a textual-image thumbnail: outcome mark, class, group size."""

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
    """A textual-image thumbnail and its caption (Sixel and unicode modes only), at a fixed size so that
    changing them never needs a layout pass."""

    def __init__(self, image_class: Any, columns: int, rows: int) -> None:
        super().__init__(classes="tile")
        self.image_class = image_class
        self.columns, self.rows = columns, rows
        self.styles.width, self.styles.height = columns, rows + 1
        self.view = _EMPTY
        self._pending: _TileView | None = None

    def on_mount(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.show(pending)

    def compose(self) -> ComposeResult:
        image = self.image_class(None, classes="tile-image")
        image.styles.width, image.styles.height = self.columns, self.rows
        yield image
        caption = Caption()
        caption.styles.width = self.columns
        yield caption

    def show(self, view: _TileView) -> None:
        if len(self.children) < 2:  # mounted a moment ago, not composed yet: show it once it is
            self._pending = view
            return
        image, label = self.children[0], self.children[1]
        if view.sample != self.view.sample or view.picture is not self.view.picture:
            _set_image(image, view.picture)
        self.view = view
        label.set(view.caption)  # type: ignore[attr-defined]


class ThumbGrid(Widget, can_focus=True):
    """The tiles.  Keys move a cursor over groups (or over an opened group's samples).

    With half cells (the default), Kitty graphics and ``--images off`` the
    grid draws its tiles itself, line by line: half cells from cached
    strips; under Kitty graphics blank tiles, with each picture placed
    over its tile once the frame is drawn (:mod:`~blocks_tui.tui.kitty_graphics`).  One widget instead of
    three per tile, so a repaint walks fewer widgets and a resize mounts
    nothing.  Sixel and unicode need textual-image's widgets, so there
    each tile is a :class:`Tile`.  Pixel-graphics tiles are sized from the
    terminal's cell size (:func:`~blocks_tui.tui.widgets.thumbnail.graphics_tile`).
    """

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

    class OutcomeSetsRequested(Message):
        """``X``: choose the result sets the filter spans."""

    def __init__(self, images: ImageBackend, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.backend = images
        self.image_class = images.widget_class  # None: the grid draws its tiles itself
        self.pictures = images.mode != "off"
        self.image_width, self.image_height = graphics_tile(images.cell) if images.graphics else HALFCELL_TILE
        self.tile_width = self.image_width + TILE_GAP
        self.tile_height = self.image_height + CAPTION_ROWS
        self.kitty = KittyPlacements() if images.mode == "tgp" else None
        self.content: PaneContent | None = None
        self.items: list[_Item] = []
        self.outcome: np.ndarray = np.zeros(0, dtype=np.int8)
        self.opened: int | None = None  # index of the opened group
        self.cursor = 0
        self.top = 0  # first visible item
        self.columns = 1
        self.rows = 1
        self.shown: list[_TileView] = []  # one per slot, row by row
        self._images: LRUCache[int, Any] = LRUCache(1024)
        self._unreadable: set[int] = set()  # thumbnails the cache could not read: shown as empty tiles
        self._lines: dict[int, Strip] = {}  # drawn tiles: rendered lines, dropped when what they show changes

    @property
    def draws_tiles(self) -> bool:
        return self.image_class is None

    async def on_resize(self) -> None:
        """As many tiles as fit, laid out once per size: scrolling only swaps their pictures."""
        columns = max(1, self.size.width // self.tile_width)
        rows = max(1, self.size.height // self.tile_height)
        if (columns, rows) != (self.columns, self.rows) or not (self.shown or self.children):
            if self.kitty is not None:  # slots that no longer exist must not keep their pictures
                self._write("".join(self.kitty.clear(slot) for slot in range(columns * rows, self.capacity)))
            self.columns, self.rows = columns, rows
            self.shown = [_EMPTY] * self.capacity
            if not self.draws_tiles:
                self.styles.grid_size_columns = columns
                self.styles.grid_columns = str(self.tile_width)
                self.styles.grid_rows = str(self.tile_height)
                await self.remove_children()
                await self.mount_all([Tile(self.image_class, self.image_width, self.image_height)
                                      for _ in range(self.capacity)])
            self._scroll_to_cursor()
        self._lines.clear()
        self._draw()

    @property
    def capacity(self) -> int:
        return self.columns * self.rows

    @property
    def visible_samples(self) -> list[int]:
        """The samples on screen, in reading order."""
        return [view.sample for view in self.shown if view.sample is not None]

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
        """Show the visible items: only the tiles whose sample, picture or caption changed are repainted."""
        if not self.is_mounted or not self.shown:
            return
        visible = self.items[self.top : self.top + self.capacity]
        images = self._decode([i.sample for i in visible])
        names = self.content.class_names if self.content else []
        counts = [f" ×{item.count}" if item.count > 1 else "" for item in visible]
        # Cut where the names on this page differ: `class-00383` and `class-00384` never read alike.
        short = distinct_shortenings([printable(names[item.label]) for item in visible],
                                     [max(1, self.image_width - 2 - len(count)) for count in counts])
        views = []
        for slot in range(self.capacity):
            if slot >= len(visible):
                views.append(_EMPTY)
                continue
            item, at, count = visible[slot], self.top + slot, counts[slot]
            outcome = OUTCOMES[int(self.outcome[at]) if at < len(self.outcome) else 2]
            caption = Text.assemble((OUTCOME_MARK[outcome] + " ", f"bold {OUTCOME_STYLE[outcome]}"), short[slot],
                                    (count, "bold"))
            if at == self.cursor and self.has_focus:
                caption.stylize("reverse")
            views.append(_TileView(item.sample, images.get(item.sample), caption))
        if not self.draws_tiles:
            for tile, view in zip(self.query(Tile), views):
                tile.show(view)
            self.shown = views
            return
        if self.kitty is not None:
            self.call_after_refresh(self._place_pictures)
        changed_rows = {slot // self.columns for slot, (old, new) in enumerate(zip(self.shown, views))
                        if old.sample != new.sample or old.picture is not new.picture or old.caption != new.caption}
        self.shown = views
        for row in sorted(changed_rows):
            for y in range(row * self.tile_height, (row + 1) * self.tile_height):
                self._lines.pop(y, None)
            self.refresh(Region(0, row * self.tile_height, self.size.width, self.tile_height))

    def _decode(self, samples: list[int]) -> dict[int, Any]:
        """Pictures of the visible samples (half-cell strips, or PIL images for textual-image), cached;
        reads only the thumbnails not decoded yet, in one ascending read."""
        if not self.pictures or self.content is None:
            return {}
        missing = sorted({s for s in samples if self._images.get(s) is None and s not in self._unreadable})
        if missing:
            try:
                pixels = self.content.thumbnails(np.array(missing, dtype=np.int64))
            except CacheError as exc:  # a damaged chunk: say so once, draw the rest, never a traceback
                self._unreadable.update(missing)
                self.app.notify(str(exc), severity="warning", timeout=10)  # the app escapes every notification
                pixels = []
            for sample, array in zip(missing, pixels):
                if self.backend.graphics:
                    self._images[sample] = graphics_picture(array, self.image_width, self.image_height,
                                                            self.backend.cell, self._background())
                elif self.draws_tiles:
                    self._images[sample] = halfcell_strips(array, self.image_width, self.image_height)
                else:
                    self._images[sample] = PILImage.fromarray(np.ascontiguousarray(array))
        return {s: self._images[s] for s in samples if self._images.get(s) is not None}

    def notify_style_update(self) -> None:
        """Focus tints the background: every cached line is stale."""
        super().notify_style_update()
        self._lines.clear()

    def render_line(self, y: int) -> Strip:
        if not self.draws_tiles:
            return super().render_line(y)
        line = self._lines.get(y)
        if line is None:
            line = self._lines[y] = self._grid_line(y)
        return line

    def _grid_line(self, y: int) -> Strip:
        """Line ``y`` of the drawn tiles: each tile's line and a one-cell gap, side by side."""
        row, dy = divmod(y, self.tile_height)
        base = self.rich_style
        gap = Strip.blank(TILE_GAP, base)
        parts = []
        for column in range(self.columns):
            slot = row * self.columns + column
            view = self.shown[slot] if row < self.rows and slot < len(self.shown) else _EMPTY
            parts += [self._tile_line(view, dy, base), gap]
        return Strip.join(parts).crop_extend(0, self.size.width, base)

    def _tile_line(self, view: _TileView, dy: int, base: Style) -> Strip:
        """Line ``dy`` of one drawn tile: the picture's half cells (blank under a Kitty picture) then the
        caption, or (``--images off``) the sample id then the caption."""
        width = self.image_width
        if view.sample is None:
            return Strip.blank(width, base)
        if self.pictures:
            if dy < self.image_height:
                if view.picture is None or self.kitty is not None:
                    return Strip.blank(width, base)
                return view.picture[dy]
            text = view.caption if dy == self.image_height else None
        else:
            text = {0: Text(f"#{view.sample}", style="dim"), 1: view.caption}.get(dy)
        if text is None:
            return Strip.blank(width, base)
        segments = Segment.apply_style(text.render(self.app.console), base)
        return Strip(segments).crop_extend(0, width, base)

    # -- Kitty graphics -------------------------------------------------------------
    def _place_pictures(self) -> None:
        """Once the frame is drawn, put each tile's Kitty picture on its tile (and take off what left).

        Runs after every change of what the tiles show, of size and of
        screen; a slot whose picture and position are unchanged costs
        nothing.  While another screen is on top nothing is placed.
        """
        kitty = self.kitty
        if kitty is None or not self.is_mounted or self.screen is not self.app.screen:
            return
        region = self.content_region
        commands = []
        for slot, view in enumerate(self.shown):
            row, column = divmod(slot, self.columns)
            if view.sample is None or view.picture is None:
                commands.append(kitty.clear(slot))
            else:
                commands.append(kitty.show(slot, view.sample, view.picture, self.image_width, self.image_height,
                                           region.x + column * self.tile_width, region.y + row * self.tile_height))
        self._write("".join(commands))

    def _write(self, commands: str) -> None:
        """Send commands straight to the terminal, for changes that no repaint would carry."""
        driver = getattr(self.app, "_driver", None)
        if commands and driver is not None:
            driver.write(commands)
            driver.flush()

    def on_mount(self) -> None:
        if self.kitty is not None:
            self.app.screen_change_signal.subscribe(self, self._screen_changed)
            # A layout pass can move the grid without resizing it (the terminal grew wider): place again.
            self.screen.screen_layout_refresh_signal.subscribe(
                self, lambda screen: self.call_after_refresh(self._place_pictures))

    def _screen_changed(self, screen: Any) -> None:
        """Placements float above the text, so a screen or popup on top must take them away; coming back
        places them again."""
        assert self.kitty is not None
        if screen is self.screen:
            self.call_after_refresh(self._place_pictures)
        else:
            self._write(self.kitty.hide_all())

    def on_unmount(self) -> None:
        if self.kitty is not None:
            self._write(self.kitty.free_all())  # quitting leaves no picture behind, on screen or in memory

    def _background(self) -> tuple[int, int, int]:
        """The grid's background colour, which pads a picture to its tile."""
        color = self.background_colors[1]
        return color.r, color.g, color.b

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

    def action_outcome_sets(self) -> None:
        self.post_message(self.OutcomeSetsRequested())


class SamplePane(Vertical):
    """Title, tabs, the grid and the focused sample's details."""

    def __init__(self, images: ImageBackend, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.images = images
        self.heading = Text("")  # what the title lines say, as shown

    def compose(self) -> ComposeResult:
        yield Static("", id="samples-title")
        yield Static("", id="samples-tabs")
        yield ThumbGrid(self.images, id="samples-grid")
        yield Static("", id="samples-details")

    @property
    def grid(self) -> ThumbGrid:
        return self.query_one(ThumbGrid)

    def show(self, content: PaneContent) -> None:
        s = content.selection
        # The title and note name classes and groups from the data: escaped, while the line breaks
        # between them are the pane's own.
        title = Text.assemble((s.kind.capitalize() + " ", "bold underline"), printable(s.title))
        title.append(f"\n{_count(len(s.ids), 'sample')} · {_count(len(content.groups), 'class')}", style="dim")
        if s.note:
            title.append(f"\n{printable(s.note)}", style="dim")
        self.heading = title
        self.query_one("#samples-title", Static).update(title, layout=False)  # fixed heights: no layout pass
        tabs = Text()
        for i, (label, count) in enumerate(s.tabs):
            tabs.append(f" {label} {count:,} ", style="bold reverse" if i == s.tab else "dim")
            tabs.append(" ")
        self.query_one("#samples-tabs", Static).update(tabs, layout=False)
        self.grid.show(content)

    def on_thumb_grid_focused_sample(self, message: ThumbGrid.FocusedSample) -> None:
        content = self.grid.content
        details = self.query_one("#samples-details", Static)
        text = Text()
        if message.sample is not None and content is not None:
            text = details_text(content.details(message.sample), details.size.width or 28)
        details.update(text, layout=False)


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n:,} {noun if n == 1 else plural}"


def details_text(d: SampleDetails, width: int) -> Text:
    """The focused sample in a few lines of ``width`` cells: id and source, true class, top 5, and its
    outcome in every result set (the active one first; see :func:`~blocks_tui.tui.samples.fit_outcomes`).

    Every line is cut to ``width``, so none wraps and pushes the outcomes out of the block's fixed
    height: a source path keeps its end (the file name), a class name its start.  Every name comes
    from data, so it is escaped (:func:`~blocks_tui.safe_text.printable`) before it is measured.
    """
    d = replace(d, source=printable(d.source), true=printable(d.true), active=printable(d.active),
                top=[(printable(name), p) for name, p in d.top],
                outcomes=[(printable(name), outcome) for name, outcome in d.outcomes])
    head = Text.assemble((f"#{d.sample} ", "bold"), (d.source, "dim"))
    if head.cell_len > width:
        keep = max(0, width - len(f"#{d.sample} ") - 1)
        tail = d.source[-keep:] if keep else ""
        while cell_len(tail) > keep:  # wide characters: drop from the front until it fits
            tail = tail[1:]
        head = Text.assemble((f"#{d.sample} ", "bold"), ("…" + tail, "dim"))
    text = Text.assemble(_fit(head, width), "\n", _fit(Text.assemble(("true ", "dim"), (d.true, "bold")), width))
    text.append("\n")
    for i, (name, prob) in enumerate(d.top):
        style = "green" if name == d.true else ""
        text.append_text(_fit(Text(f"{i + 1} {name[:16]:<16} {prob:5.1%}", style=style), width))
        text.append("\n")
    fitted = fit_outcomes(d.outcomes, d.active, width, DETAILS_OUTCOME_LINES)
    for row, entries in enumerate(fitted.rows):
        line = Text()
        for i, (name, outcome) in enumerate(entries):
            style = OUTCOME_STYLE[outcome] + (" bold" if name == d.active else "")
            line.append("  " if i else "")  # unstyled, so that SVG renderers do not drop it as leading space
            line.append_text(_fit(Text(f"{OUTCOME_MARK[outcome]} {name}", style=style), width))
        if fitted.rest and row == len(fitted.rows) - 1:
            line.append("  " if entries else "")
            line.append(fitted.summary, style="dim")
        text.append_text(_fit(line, width))
        if row < len(fitted.rows) - 1:
            text.append("\n")
    return text


def _fit(line: Text, width: int) -> Text:
    """``line`` cut to ``width`` cells (wide characters counted as two), with an ellipsis when cut."""
    if line.cell_len > width:
        line = line.copy()
        line.truncate(width, overflow="ellipsis")
    return line
