"""The help screen: every binding with its current keys and id, and what the colours mean."""

from __future__ import annotations

from typing import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...analysis.view_frame import BLOCK, CURSOR, FN_BAND, FP_BAND, NODE_BLOCK
from ...safe_text import printable
from ..bindings import ALL_KEYS, SCOPES
from ..keymap import effective_keys
from ..palette import palette_for


def _shown_keys(keys: str, display: Callable[[Binding], str]) -> str:
    """``"k,up"`` as the footer would show it: ``k  ↑``."""
    return "  ".join(display(Binding(k.strip(), "")) for k in keys.split(",") if k.strip())


class HelpScreen(ModalScreen[None]):
    """Built from the bindings table and the app's keymap, so it lists remapped keys as they are."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="help.up"),
        Binding("J,pagedown,space", "scroll(10)", "Page down", show=False, id="help.page_down"),
        Binding("K,pageup", "scroll(-10)", "Page up", show=False, id="help.page_up"),
        Binding("g,home", "edge(0)", "Top", show=False, id="help.top"),
        Binding("G,end", "edge(1)", "Bottom", show=False, id="help.bottom"),
    ]

    def __init__(self, keymap: dict[str, str], keymap_file: str) -> None:
        super().__init__()
        self.keymap, self.keymap_file = keymap, keymap_file

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(self._thumbnails(), id="help-images")
            yield Static(self.keys_table(), id="help-keys")
            yield Static(self._legend(), id="help-legend")

    def keys_table(self) -> Table:
        """Every binding: its keys as this keymap has them, what it does, and its id."""
        keys = effective_keys(self.keymap)
        table = Table(title="blocks-tui keys", title_justify="left", expand=True, box=None, padding=(0, 1))
        table.add_column("keys", style="bold cyan", no_wrap=True)
        table.add_column("what it does", ratio=1)
        table.add_column("id (for keymap.toml)", style="dim", no_wrap=True)
        for scope, title in SCOPES.items():
            # The scope's title in the wide column: in the keys column it set that column's width.
            table.add_row("", Text(title, style="bold underline"), "")
            for spec in (s for s in ALL_KEYS if s.scope == scope):
                table.add_row(_shown_keys(keys[spec.id], self.app.get_key_display), spec.help, spec.id)
        return table

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_edge(self, end: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        (body.scroll_end if end else body.scroll_home)(animate=False)

    def _thumbnails(self) -> Text:
        """Which picture mode is in use and why: the first thing to check when thumbnails look wrong."""
        images = getattr(self.app, "images", None)
        if images is None:
            return Text("")
        return Text.assemble(("Thumbnails: ", "bold"), printable(images.describe()),
                             (" · --images auto|kitty|sixel|halfcell|off", "dim"))

    def _legend(self) -> Text:
        text = Text("\nColours\n", style="bold")
        colours = palette_for(self.app.console.color_system).hexes  # as this terminal shows them
        for code, meaning in ((BLOCK, "empty cell inside a diagonal child block"),
                              (FN_BAND, "the tree node's rows: its false negatives"),
                              (FP_BAND, "the tree node's columns: its false positives"),
                              (NODE_BLOCK, "the tree node's own block (true positives)"),
                              (CURSOR, "the cursor")):
            text.append("  ██ ", style=colours[code])
            text.append(f"{meaning}\n")
        text.append("  Counts run from purple (few) through red and orange to pale yellow (many);\n"
                    "  a count of 0 is the background.  c switches linear/log, d the diagonal.\n")
        text.append(f"\nRemap keys in {printable(self.keymap_file)} (TOML: \"binding id\" = \"key1,key2\").\n", style="dim")
        text.append("Press Escape or ? to close.", style="dim")
        return text
