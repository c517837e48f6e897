"""Every key binding of the viewer, as data.

One table feeds the Textual ``BINDINGS`` of the app and the widgets, the
help screen, the command palette and the keymap check, so they cannot drift
apart.  Each binding has an id (``scope.name``); a user keymap file maps ids
to other keys (see :mod:`blocks_tui.tui.keymap`).

App and main-screen keys name the feature that handles them,
``route('feature.method', args)`` (see :meth:`blocks_tui.tui.app.BlocksApp.action_route`);
widget keys name the widget's own action.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

SCOPES = {"app": "Anywhere", "main": "Main screen", "matrix": "Confusion matrix", "responses": "Response map",
          "tree": "Hierarchy tree", "samples": "Sample pane", "triage": "Outliers and mislabels",
          "table": "Every table (outliers, mislabels, compare, probes)"}
TARGETS = {"app": None, "main": None, "matrix": "#matrix", "responses": "#responses", "tree": "#tree",
           "samples": "#samples-grid", "triage": "#triage-table", "table": "#triage-table"}
"""The widget each scope's actions run on, for the command palette (None: the app)."""


@dataclass(frozen=True)
class KeySpec:
    """One binding: its id, default keys (comma-separated), action, footer label and help text."""

    id: str
    keys: str
    action: str
    label: str
    help: str
    show: bool = True

    @property
    def scope(self) -> str:
        return self.id.split(".", 1)[0]

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.label, show=self.show, id=self.id)


APP_KEYS = [
    KeySpec("app.help", "question_mark", "help", "Help", "Show every key binding"),
    KeySpec("app.find", "slash", "route('navigation.ask_find')", "Find",
            "Find a class, a group or a sample (#id) and go there"),
    # The triage keys come early: the footer shows keys in this order and drops what does not fit.
    KeySpec("app.outliers", "o", "route('triage.toggle', 'outliers')", "Outliers",
            "Rank the block outliers (class pairs confused across groups) and triage them"),
    KeySpec("app.mislabels", "m", "route('triage.toggle', 'mislabels')", "Mislabels",
            "Rank the samples whose label is most likely wrong and triage them"),
    KeySpec("app.filter", "f", "route('results.ask_filters')", "Filter",
            "Filter the matrix: minimum count, top-k errors, probability ranges, result sets"),
    KeySpec("app.seriate", "s", "route('blocks.ask_seriation')", "Seriate",
            "Seriate the current block with a chosen algorithm and offer it as the hierarchy"),
    KeySpec("app.partition", "b", "route('blocks.ask_partition')", "Blocks",
            "Partition the current block into b diagonal blocks"),
    KeySpec("app.next_outlier", "n", "route('navigation.step_outlier', 1)", "Outlier",
            "Jump to the next block outlier"),
    KeySpec("app.previous_outlier", "N", "route('navigation.step_outlier', -1)", "Prev outlier",
            "Jump to the previous block outlier", show=False),
    KeySpec("app.zoom_out", "backspace,escape", "route('navigation.zoom_out')", "Back",
            "Zoom out one level; while a seriation or partition runs, cancel it"),
    KeySpec("app.zoom_top", "Z", "route('navigation.zoom_top')", "Zoom to top",
            "Zoom out to the whole hierarchy", show=False),
    KeySpec("app.diagonal", "d", "route('navigation.toggle_diagonal')", "Diagonal",
            "Show or hide the diagonal (correct predictions)", show=False),
    KeySpec("app.scale", "c", "route('navigation.toggle_scale')", "Lin/log",
            "Switch the colour scale between linear and log", show=False),
    KeySpec("app.metric", "M", "route('navigation.cycle_metric')", "Metric",
            "Cycle the tree metric: F1, precision, recall, their change against another result set", show=False),
    KeySpec("app.sort", "O", "route('navigation.cycle_sort')", "Sort",
            "Cycle how children are sorted: stored order, name, size, metric", show=False),
    KeySpec("app.next_result", "r", "route('results.cycle', 1)", "Result",
            "Show the next result set (original, grayscale, rot90, epoch-N, ...) in the matrix, tree and samples"),
    KeySpec("app.previous_result", "R", "route('results.cycle', -1)", "Previous result",
            "Show the previous result set", show=False),
    KeySpec("app.next_epoch", "full_stop", "route('results.step_epoch', 1)", "Next epoch",
            "Step the matrix and the tree to the next training epoch (result sets epoch-N)", show=False),
    KeySpec("app.previous_epoch", "comma", "route('results.step_epoch', -1)", "Previous epoch",
            "Step the matrix and the tree to the previous training epoch", show=False),
    KeySpec("app.separation", "p", "route('results.ask_separation')", "Probes",
            "Layer × node table: each group's recall under each layer's linear probe and the output"),
    KeySpec("app.compare", "C", "route('results.ask_compare')", "Compare",
            "Compare two result sets: colour the tree by the change and rank the nodes that changed most"),
    KeySpec("app.palette", "ctrl+p", "command_palette", "palette", "Command palette: every action here, by name",
            show=False),
    KeySpec("app.quit", "q", "quit", "Quit", "Quit blocks-tui", show=False),
]

MAIN_KEYS = [
    KeySpec("main.view", "tab", "app.route('centre.toggle')", "Responses",
            "Switch the centre between the confusion matrix and the response map"),
    KeySpec("main.lower", "t", "app.route('centre.step_threshold', -1)", "T−",
            "Response map: lower the threshold T by 0.05"),
    KeySpec("main.raise", "T", "app.route('centre.step_threshold', 1)", "T+",
            "Response map: raise the threshold T by 0.05", show=False),
    KeySpec("main.previous_layer", "left_square_bracket", "app.route('centre.step_layer', -1)", "Layer",
            "Response map: previous layer"),
    KeySpec("main.next_layer", "right_square_bracket", "app.route('centre.step_layer', 1)", "Next layer",
            "Response map: next layer", show=False),
    KeySpec("main.marks", "1,2,3,4,0", "app.route('triage.marks_need_a_row')", "Mark",
            "Outside the outliers or mislabels panel: say where marks go (o or m opens it)", show=False),
    KeySpec("main.focus_next", "w", "app.focus_next", "Next pane",
            "Move the focus to the next pane: tree, centre, samples", show=False),
    KeySpec("main.focus_previous", "W,shift+tab", "app.focus_previous", "Previous pane",
            "Move the focus to the previous pane", show=False),
]

MATRIX_KEYS = [
    KeySpec("matrix.cursor_up", "k,up", "cursor(-1,0)", "Up", "Move the cursor up a cell", show=False),
    KeySpec("matrix.cursor_down", "j,down", "cursor(1,0)", "Down", "Move the cursor down a cell", show=False),
    KeySpec("matrix.cursor_left", "h,left", "cursor(0,-1)", "Left", "Move the cursor left a cell", show=False),
    KeySpec("matrix.cursor_right", "l,right", "cursor(0,1)", "Right", "Move the cursor right a cell", show=False),
    KeySpec("matrix.page_up", "K,pageup", "cursor(-8,0)", "Up 8", "Move the cursor up 8 cells", show=False),
    KeySpec("matrix.page_down", "J,pagedown", "cursor(8,0)", "Down 8", "Move the cursor down 8 cells", show=False),
    KeySpec("matrix.page_left", "H", "cursor(0,-8)", "Left 8", "Move the cursor left 8 cells", show=False),
    KeySpec("matrix.page_right", "L", "cursor(0,8)", "Right 8", "Move the cursor right 8 cells", show=False),
    KeySpec("matrix.first", "g,home", "corner(0)", "First", "Cursor to the first diagonal cell", show=False),
    KeySpec("matrix.last", "G,end", "corner(1)", "Last", "Cursor to the last diagonal cell", show=False),
    KeySpec("matrix.diagonal", "x", "to_diagonal", "To diagonal",
            "Cursor to the diagonal cell of its row", show=False),
    KeySpec("matrix.zoom_in", "enter", "zoom_in", "Zoom", "Zoom into the diagonal block under the cursor"),
]

RESPONSE_KEYS = [
    KeySpec("responses.up", "k,up", "cursor(-1,0)", "Up", "Move the cursor up a row", show=False),
    KeySpec("responses.down", "j,down", "cursor(1,0)", "Down", "Move the cursor down a row", show=False),
    KeySpec("responses.left", "h,left", "cursor(0,-1)", "Left", "Previous neuron (more relevant)", show=False),
    KeySpec("responses.right", "l,right", "cursor(0,1)", "Right", "Next neuron (less relevant)", show=False),
    KeySpec("responses.page_left", "H", "cursor(0,-8)", "Left 8", "Eight neurons to the left", show=False),
    KeySpec("responses.page_right", "L", "cursor(0,8)", "Right 8", "Eight neurons to the right", show=False),
    KeySpec("responses.first", "g,home", "first", "Most relevant", "Cursor to the most relevant neuron", show=False),
    KeySpec("responses.last", "G,end", "last", "Least relevant", "Cursor to the least relevant neuron", show=False),
    KeySpec("responses.zoom_in", "enter", "zoom_in", "Zoom", "Zoom into the block of the row under the cursor"),
]

SAMPLE_KEYS = [
    KeySpec("samples.up", "k,up", "move(-1,0)", "Up", "Thumbnail above", show=False),
    KeySpec("samples.down", "j,down", "move(1,0)", "Down", "Thumbnail below", show=False),
    KeySpec("samples.left", "h,left", "move(0,-1)", "Left", "Previous thumbnail", show=False),
    KeySpec("samples.right", "l,right", "move(0,1)", "Right", "Next thumbnail", show=False),
    KeySpec("samples.first", "g,home", "edge(0)", "First", "First thumbnail", show=False),
    KeySpec("samples.last", "G,end", "edge(1)", "Last", "Last thumbnail", show=False),
    KeySpec("samples.open", "enter", "open", "Open group", "Show every sample of the class under the cursor"),
    KeySpec("samples.close", "backspace", "close", "Groups", "Back to one thumbnail per class"),
    KeySpec("samples.tab", "v", "next_tab", "TP/FN/FP", "Show the node's next tab: TP, FN, FP"),
    KeySpec("samples.outcomes", "x", "outcome_filter", "Right/wrong",
            "Next right/wrong filter: right here and wrong in the compared set, the reverse, right in all result "
            "sets, wrong in all, right only here, wrong only here, or all samples"),
    KeySpec("samples.outcome_sets", "X", "outcome_sets", "Which sets",
            "Choose the result sets that x's 'in all' and 'only here' span: every one, or a few", show=False),
]

TABLE_KEYS = [
    KeySpec("table.down", "j", "cursor_down", "Down", "Next row", show=False),
    KeySpec("table.up", "k", "cursor_up", "Up", "Previous row", show=False),
    KeySpec("table.left", "h", "cursor_left", "Left", "Previous column", show=False),
    KeySpec("table.right", "l", "cursor_right", "Right", "Next column", show=False),
    KeySpec("table.first", "g", "scroll_top", "First", "First row", show=False),
    KeySpec("table.last", "G", "scroll_bottom", "Last", "Last row", show=False),
]

TRIAGE_KEYS = [
    KeySpec("triage.redundant", "1", "mark(1)", "Redundant", "Mark the row: redundant classes, then on to the next row"),
    KeySpec("triage.mislabeled", "2", "mark(2)", "Mislabeled", "Mark the row: mislabeled, then on to the next row"),
    KeySpec("triage.ambiguous", "3", "mark(3)", "Ambiguous", "Mark the row: ambiguous, then on to the next row"),
    KeySpec("triage.expected", "4", "mark(4)", "Expected", "Mark the row: expected, nothing to fix; then on to the next row"),
    KeySpec("triage.clear", "0", "mark(0)", "Clear", "Clear the row's mark and note", show=False),
    KeySpec("triage.note", "e", "note", "Note", "Add or edit the row's free-text note"),
    KeySpec("triage.export", "E", "export", "Export", "Write the decisions to another file", show=False),
    KeySpec("triage.close", "escape", "close", "Close", "Hide the panel"),
]

TREE_KEYS = [
    KeySpec("tree.down", "j", "cursor_down", "Down", "Next node", show=False),
    KeySpec("tree.up", "k", "cursor_up", "Up", "Previous node", show=False),
    KeySpec("tree.collapse", "h,left", "collapse_or_parent", "Collapse",
            "Collapse the node, or go to its parent", show=False),
    KeySpec("tree.expand", "l,right", "expand_or_child", "Expand",
            "Expand the node, or go to its first child", show=False),
    KeySpec("tree.first", "g,home", "scroll_home", "Top", "First node", show=False),
    KeySpec("tree.last", "G,end", "scroll_end", "Bottom", "Last visible node", show=False),
    KeySpec("tree.toggle", "space", "toggle_node", "Toggle", "Expand or collapse the node", show=False),
    KeySpec("tree.zoom", "enter", "select_cursor", "Zoom", "Zoom the matrix to the node"),
]

ALL_KEYS = (APP_KEYS + MAIN_KEYS + MATRIX_KEYS + RESPONSE_KEYS + TREE_KEYS + SAMPLE_KEYS + TABLE_KEYS
            + TRIAGE_KEYS)
BY_ID = {spec.id: spec for spec in ALL_KEYS}


def bindings(specs: list[KeySpec]) -> list[Binding]:
    """Textual bindings of a scope's specs, ids included so a keymap can move them."""
    return [spec.binding() for spec in specs]
