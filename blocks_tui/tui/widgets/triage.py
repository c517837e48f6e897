"""The triage panel: a ranked table of block outliers (``o``) or mislabel candidates (``m``).

It docks under the matrix so the matrix and the sample pane stay in view:
moving along the rows puts the matrix cursor on the row's cell and fills
the sample pane (the app does that on :class:`TriagePanel.RowChosen`: a
selection is the app's to route).  Everything else about triage is the
panel's own: single keys mark a row (1 redundant, 2 mislabeled,
3 ambiguous, 4 expected, 0 clear) and move on to the next, ``e`` edits its
note, ``E`` exports the decisions, and each change is saved at once in the
cache's :class:`~blocks_tui.cache.triage.TriageStore`.  The app hears only
:class:`TriagePanel.Closed` and :class:`TriagePanel.Said`.

Every cell holds names, sources or notes from the data, so the panel shows
each one escaped and never as markup (:mod:`blocks_tui.safe_text`): a ``str``
cell would be parsed as markup by the DataTable (``[@click=…]`` an action,
a stray ``[/]`` a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from ...analysis.triage import MISLABEL_COLUMNS, OUTLIER_COLUMNS, mislabel_cells, outlier_cells
from ...cache.triage import OutlierKey, SampleKey, TriageError, TriageStore
from ...safe_text import escaped, plain
from ..bindings import TRIAGE_KEYS, bindings
from .tables import VimTable

MARK_STYLE = {"redundant": "bold magenta", "mislabeled": "bold red", "ambiguous": "bold yellow",
              "expected": "bold green"}
MAX_COLUMN_WIDTH = 48
GROWING_COLUMNS = {"mark": len("mislabeled"), "note": 24}  # filled in later: room for what they will hold
KIND_STYLE = {"redundant": "magenta", "subclass": "cyan", "label-noise": "red", "ambiguous": "yellow"}


class TriageTable(VimTable):
    """The rows, with the marking keys (the vim keys come with :class:`VimTable`)."""

    BINDINGS = bindings(TRIAGE_KEYS)

    class Marked(Message):
        def __init__(self, decision: int) -> None:
            super().__init__()
            self.decision = decision

    class NoteRequested(Message):
        """``e``: edit the note of the row under the cursor."""

    class ExportRequested(Message):
        """``E``: write the decisions to another path."""

    class CloseRequested(Message):
        """Escape: hide the panel."""

    def action_mark(self, decision: int) -> None:
        if self.row_count:
            self.post_message(self.Marked(decision))

    def action_note(self) -> None:
        if self.row_count:
            self.post_message(self.NoteRequested())

    def action_export(self) -> None:
        self.post_message(self.ExportRequested())

    def action_close(self) -> None:
        self.post_message(self.CloseRequested())


OUTLIER_ORDER = ("#", "mark", "kind", "true → predicted", "note", "count", "back", "common ancestor", "dist")
MISLABEL_ORDER = ("#", "mark", "sample", "label", "predicted", "note", "p(pred)", "p(label)", "top 5")
"""The tables' columns as shown: the decision first, then what it is about, then the evidence, so that
at 80 columns the mark, the kind and the note are on screen without scrolling."""


@dataclass(frozen=True)
class TriageRows:
    """What the panel lists: ranked rows of one kind for one result set, and the names to show them by."""

    kind: str  # "outliers" or "mislabels"
    result: str
    rows: list[Any]  # OutlierRow or MislabelRow, best first
    class_names: Sequence[str]
    node_names: Sequence[str]  # the hierarchy's, for an outlier's common ancestor
    source_of: Callable[[int], str]  # a sample's source, read when needed: a mislabel's decision is keyed by it


AskText = Callable[[str, str, str, Callable[[str | None], None]], None]
"""Ask the user for a line of text: (question, value, placeholder, then called with the answer or None)."""


class TriagePanel(Vertical):
    """A title and the table of one :class:`TriageRows`, with the marks and notes of a store.

    Notes and export paths are typed into a dialog the app provides (``ask_text``): dialogs are
    screens, and widgets do not import screens.
    """

    class RowChosen(Message):
        """The cursor is on ``row`` (row ``index`` of the current list): the app shows its samples."""

        def __init__(self, index: int, kind: str, row: Any) -> None:
            super().__init__()
            self.index, self.kind, self.row = index, kind, row

    class Closed(Message):
        """The panel hid itself (Escape)."""

    class Said(Message):
        """Something for the status line (a save that failed, an empty list)."""

        def __init__(self, text: Text) -> None:
            super().__init__()
            self.text = text

    def __init__(self, ask_text: AskText, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.ask_text = ask_text
        self.kind: str | None = None
        self.listing: TriageRows | None = None
        self.store: TriageStore | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="triage-title")
        yield TriageTable(id="triage-table", cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> TriageTable:
        return self.query_one(TriageTable)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def rows(self) -> list[Any]:
        return self.listing.rows if self.listing is not None else []

    def open(self, kind: str, store: TriageStore | None) -> None:
        """Show the panel for ``kind`` (its rows arrive later, from a worker: :meth:`show_rows`)."""
        self.kind, self.store, self.listing = kind, store, None
        self.add_class("-open")
        self.table.focus()

    def close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())

    # -- rows -------------------------------------------------------------------------------
    def show_rows(self, listing: TriageRows) -> None:
        """Fill the table with ``listing`` and its saved marks and notes; the cursor starts on the first row."""
        self.listing = listing
        what = "Block outliers" if listing.kind == "outliers" else "Mislabel candidates"
        title = Text(f"{what} of {listing.result} · {len(listing.rows):,} rows · 1 redundant 2 mislabeled "
                     "3 ambiguous 4 expected 0 clear · e note · E export", style="dim")
        title.stylize("bold not dim", 0, len(what))
        outliers = listing.kind == "outliers"
        source = (*(OUTLIER_COLUMNS if outliers else MISLABEL_COLUMNS), "mark", "note")
        columns = OUTLIER_ORDER if outliers else MISLABEL_ORDER
        pick = [source.index(name) for name in columns]
        table_rows = []
        for i, row in enumerate(listing.rows):
            entry = self.store.get(self.key_of(row)) if self.store else None
            mark, note = (entry.decision, entry.note) if entry else (None, "")
            if outliers:
                cells: list[Any] = outlier_cells(i + 1, row, listing.class_names, listing.node_names)
                cells[-1] = kind_text(cells[-1])
            else:
                cells = mislabel_cells(i + 1, row, listing.class_names)
            values = (*cells, mark_text(mark), note)
            table_rows.append(tuple(values[j] for j in pick))
        self.show(listing.kind, title, columns, table_rows)
        if not listing.rows:
            self.post_message(self.Said(Text("nothing to triage here", style="yellow")))

    def key_of(self, row: Any) -> OutlierKey | SampleKey:
        """The store's key of a row (see :meth:`TriageStore.key_for_pair` for a pair's direction)."""
        assert self.listing is not None
        names = self.listing.class_names
        if self.listing.kind == "outliers":
            true, predicted = names[row.true], names[row.predicted]
            return self.store.key_for_pair(true, predicted) if self.store else OutlierKey(true, predicted)
        return SampleKey(row.sample, self.listing.source_of(row.sample))

    def current(self) -> tuple[int, Any] | None:
        """(index, row) under the cursor, or None."""
        index = self.table.cursor_row
        rows = self.rows
        return (index, rows[index]) if 0 <= index < len(rows) else None

    def current_key(self) -> OutlierKey | SampleKey | None:
        found = self.current()
        return self.key_of(found[1]) if found else None

    def show(self, kind: str, title: Text, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Replace the table's content; the cursor starts on the first row."""
        self.kind = kind
        self.query_one("#triage-title", Label).update(escaped(title))
        table = self.table
        table.clear(columns=True)
        shown = [[cell_text(cell) for cell in row] for row in rows]
        # Widths from the content up front: auto-sized columns added to a table already on screen
        # can keep their header's width on a real terminal (seen in tmux with Textual 8).
        for i, name in enumerate(columns):
            width = max([len(name), GROWING_COLUMNS.get(name, 0)] + [row[i].cell_len for row in shown])
            table.add_column(name, key=name, width=min(width, MAX_COLUMN_WIDTH))
        for i, row in enumerate(shown):
            table.add_row(*row, key=str(i))
        if rows:
            table.move_cursor(row=0)
            self._chosen(0)

    def set_cell(self, index: int, column: str, value: Any) -> None:
        self.table.update_cell(str(index), column, cell_text(value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self._chosen(int(event.row_key.value))

    def _chosen(self, index: int) -> None:
        if self.listing is not None and 0 <= index < len(self.listing.rows):
            self.post_message(self.RowChosen(index, self.listing.kind, self.listing.rows[index]))

    # -- decisions --------------------------------------------------------------------------
    def _decision_target(self) -> tuple[int, OutlierKey | SampleKey, TriageStore] | None:
        """(index, key, store) of the row under the cursor, or None when there is no row or no store."""
        found, store = self.current(), self.store
        if found is None or store is None:
            return None
        return found[0], self.key_of(found[1]), store

    @on(TriageTable.Marked)
    def _mark(self, message: TriageTable.Marked) -> None:
        message.stop()
        target = self._decision_target()
        if target is None:
            return
        index, key, store = target
        saved = store.mark(key, message.decision)
        entry = store.get(key)
        self.set_cell(index, "mark", mark_text(entry.decision if entry else None))
        if message.decision == 0:
            self.set_cell(index, "note", "")
        self._after_save(saved)
        if saved:  # on to the next row, so a run of marks is a run of key presses
            self.table.action_cursor_down()

    @on(TriageTable.NoteRequested)
    def _note(self, message: TriageTable.NoteRequested) -> None:
        message.stop()
        target = self._decision_target()
        if target is None:
            return
        index, key, store = target
        entry = store.get(key)

        def done(text: str | None) -> None:
            if text is None:
                return
            self._after_save(store.note(key, text))
            self.set_cell(index, "note", text.strip())

        self.ask_text("Note for this row (Enter saves, Escape cancels):", entry.note if entry else "", "", done)

    @on(TriageTable.ExportRequested)
    def _export(self, message: TriageTable.ExportRequested) -> None:
        message.stop()
        store = self.store
        if store is None:
            return

        def done(text: str | None) -> None:
            if not text:
                return
            try:
                written = store.export(Path(text).expanduser())
            except TriageError as exc:
                self.app.notify(str(exc), severity="error", timeout=10)
                return
            self.app.notify(f"wrote {len(store)} decisions to {written}")

        self.ask_text("Export the decisions to (a file or a folder):", "", str(Path.home() / store.path.name), done)

    @on(TriageTable.CloseRequested)
    def _close_requested(self, message: TriageTable.CloseRequested) -> None:
        message.stop()
        self.close()

    def _after_save(self, saved: bool) -> None:
        store = self.store
        if not saved and store is not None and store.message:
            self.post_message(self.Said(Text(store.message + " · E exports them", style="bold yellow")))


def cell_text(value: Text | str) -> Text:
    """A cell as shown: a ``str`` literally (never markup), a ``Text`` with its styles; escaped either way."""
    return escaped(value) if isinstance(value, Text) else plain(value)


def mark_text(decision: str | None) -> Text:
    return Text(decision or "", style=MARK_STYLE.get(decision or "", ""))


def kind_text(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, ""))
