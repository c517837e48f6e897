"""The filter screen: result sets, cell filters and sample filters, validated before they apply."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from ...safe_text import plain
from ..jobs import Filters

NO_COMPARE = "(none)"


def _number(text: str, kind: type, name: str) -> float | int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{name} must be {'a whole number' if kind is int else 'a number'}, got {text!r}") from None


def _range(low: str, high: str, name: str) -> tuple[float, float] | None:
    lo, hi = _number(low, float, f"{name} low"), _number(high, float, f"{name} high")
    if lo is None and hi is None:
        return None
    lo, hi = 0.0 if lo is None else float(lo), 1.0 if hi is None else float(hi)
    if not (0.0 <= lo <= hi <= 1.0):
        raise ValueError(f"{name} must satisfy 0 ≤ low ≤ high ≤ 1, got {lo:g}–{hi:g}")
    return lo, hi


def _text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class FilterScreen(ModalScreen[Filters | None]):
    """Returns new :class:`Filters`, or None when cancelled.  Bad values keep the screen open with a reason."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel"),
                Binding("ctrl+s", "apply", "Apply", id="filter.apply")]

    def __init__(self, filters: Filters, result_names: list[str], max_k: int) -> None:
        super().__init__()
        self.filters, self.result_names, self.max_k = filters, result_names, max_k

    def compose(self) -> ComposeResult:
        f = self.filters
        with Vertical(id="filter-box"):
            yield Label("Filter the matrix", id="filter-title")
            with Grid(id="filter-grid"):
                yield Label("result set")
                # Result-set names come from the data: shown as plain text, never as markup.
                yield Select([(plain(n), n) for n in self.result_names], value=f.result, allow_blank=False, id="result", compact=True)
                yield Label("compare with")
                yield Select([(plain(n), n) for n in [NO_COMPARE, *self.result_names]],
                             value=f.compare or NO_COMPARE, allow_blank=False, id="compare", compact=True)
                yield Label("diagonal")
                yield Checkbox("show correct predictions", f.diagonal, id="diagonal", compact=True)
                yield Label("minimum count")
                yield Input(_text(f.min_count or ""), placeholder="0: every cell", id="min_count", compact=True)
                yield Label("top-k errors")
                yield Input(_text(f.top_k), placeholder=f"1..{self.max_k}: only samples whose label is not in the top k",
                            id="top_k", compact=True)
                yield Label("p(predicted)")
                with Horizontal():
                    yield Input(_text(f.predicted_prob and f.predicted_prob[0]), placeholder="low", id="pred_low", compact=True)
                    yield Input(_text(f.predicted_prob and f.predicted_prob[1]), placeholder="high", id="pred_high", compact=True)
                yield Label("p(true class)")
                with Horizontal():
                    yield Input(_text(f.true_prob and f.true_prob[0]), placeholder="low", id="true_low", compact=True)
                    yield Input(_text(f.true_prob and f.true_prob[1]), placeholder="high", id="true_high", compact=True)
            yield Label("", id="filter-error")
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def read(self) -> Filters:
        """The filters as entered; ValueError names the first bad field."""
        value = lambda wid: self.query_one(f"#{wid}", Input).value  # noqa: E731
        compare = str(self.query_one("#compare", Select).value)
        top_k = _number(value("top_k"), int, "top-k")
        if top_k is not None and not 1 <= top_k <= self.max_k:
            raise ValueError(f"top-k must lie in 1..{self.max_k}, the k the cache stores")
        min_count = _number(value("min_count"), int, "minimum count") or 0
        return replace(
            self.filters,
            result=str(self.query_one("#result", Select).value),
            compare=None if compare == NO_COMPARE else compare,
            diagonal=self.query_one("#diagonal", Checkbox).value,
            min_count=int(min_count),
            top_k=None if top_k is None else int(top_k),
            predicted_prob=_range(value("pred_low"), value("pred_high"), "p(predicted)"),
            true_prob=_range(value("true_low"), value("true_high"), "p(true class)"),
        )

    def action_apply(self) -> None:
        try:
            filters = self.read()
        except ValueError as exc:
            self.query_one("#filter-error", Label).update(plain(f"⚠ {exc}"))
            return
        self.dismiss(filters)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def on_input_submitted(self) -> None:
        self.action_apply()
