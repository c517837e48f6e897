"""Which samples and which result set the views count: filters, result sets, epochs, Compare and the probes.

A change of sample filters or result set is a pass over every sample, so it
runs as a worker (:func:`~blocks_tui.tui.jobs.compute_sample_data`); the
header names the new filters at once and the counts follow.  Compare and the
probe table are screens that publish a choice; picking a row there selects
its node through the selection flow once the counts are in.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text

from ...analysis.dynamics import epoch_series
from ...analysis.probes import LayerSeparation, layer_separation, probe_columns
from ...cache.result_names import default_result, is_probe
from ..jobs import Filters, compute_changes, compute_sample_data
from ..screens.compare import CompareChoice, CompareScreen
from ..screens.filter import FilterScreen
from ..screens.separation import SeparationChoice, SeparationScreen

if TYPE_CHECKING:
    from ..viewer import Viewer


class ResultSets:
    """Filters (f), result sets (r/R), epochs (,/.), Compare (C) and the probe table (p)."""

    def __init__(self, viewer: "Viewer") -> None:
        self.viewer = viewer
        self._after_filters: Callable[[], None] | None = None  # what a finished filter pass shows next

    def ask_filters(self) -> None:
        m = self.viewer.model
        k = m.cache.result(m.filters.result).topk_index.shape[1]
        self.viewer.push_screen(FilterScreen(m.filters, list(m.cache.result_names), k), self.apply_filters)

    def apply_filters(self, filters: Filters | None, then: Callable[[], None] | None = None) -> None:
        """Install new filters; a sample-filter change is a worker pass, after which ``then`` (if given)
        shows the result instead of the default redraw."""
        if filters is None:
            return
        v, m = self.viewer, self.viewer.model
        self._after_filters = then
        m.set_cell_filters(filters.diagonal, filters.min_count)
        if filters.sample_key() == m.filters.sample_key():
            self._after_filters = None
            (then or v.redraw)()
            return
        previous, m.filters = m.filters, filters  # shown at once in the header; the counts follow
        v.refresh_header()
        v.run_job("filter", f"filtering {len(m.cache.labels):,} samples",
                  partial(compute_sample_data, m.cache, filters), self._filters_done,
                  failed=partial(self._filters_failed, previous))

    def _filters_failed(self, previous: Filters) -> None:
        """The header must not claim filters whose counts were never computed."""
        self.viewer.model.filters = previous
        self._after_filters = None
        self.viewer.refresh_header()

    def _filters_done(self, data: Any) -> None:
        v = self.viewer
        v.model.apply_sample_data(data)
        follow, self._after_filters = self._after_filters, None
        if follow is not None:
            follow()  # it redraws
        else:
            v.refresh_tree()
            v.redraw()
        v.flow.reselect()  # the pane's samples, tabs and outcome marks under the new result set
        v.triage.result_changed(data.filters.result)

    def cycle(self, step: int) -> None:
        m = self.viewer.model
        if len(m.cache.result_names) < 2:
            self.viewer.status.say(Text("this cache has one result set", style="yellow"))
            return
        self.apply_filters(m.cycled_result(step))

    def step_epoch(self, step: int) -> None:
        """Training dynamics: the previous or next epoch-N result set (the final model last)."""
        v, cache = self.viewer, self.viewer.model.cache
        try:
            series = epoch_series(cache.result_names, lambda name: cache.result(name).attrs)
        except ValueError as exc:
            v.status.say(Text(str(exc), style="yellow"))
            return
        names = [name for _, name in series]
        current = v.model.filters.result
        if current in names:
            at = min(max(names.index(current) + step, 0), len(names) - 1)
        else:
            at = 0 if step > 0 else len(names) - 1
        where = f"epoch {series[at][0]} of {series[-1][0]} ({names[at]}) · "
        if names[at] == current:
            v.status.say(Text(where + ("the first epoch" if step < 0 else "the final model"), style="yellow"))
            return

        def show_epoch() -> None:
            v.refresh_tree()
            v.redraw()
            v.flow.announce(where)  # the status line names the epoch along with the selection

        self.apply_filters(replace(v.model.filters, result=names[at]), then=show_epoch)

    def ask_compare(self) -> None:
        v, m = self.viewer, self.viewer.model
        names = list(m.cache.result_names)
        if len(names) < 2:
            v.notify("this cache has one result set: nothing to compare", severity="warning")
            return
        before = default_result(names)
        after = m.filters.result if m.filters.result != before else (m.filters.compare or names[1])
        base = m.base
        rank = partial(compute_changes, m.cache, base, m.filters)
        screen = CompareScreen(names, before, after, m.metric if m.metric != "f1" else "recall",
                               lambda b, a, metric: rank(b, a, metric),
                               list(base.names), [base.size(n) for n in range(base.n_nodes)])
        v.push_screen(screen, self._compare_chosen)

    def _compare_chosen(self, choice: CompareChoice | None) -> None:
        if choice is None:
            return
        v, m = self.viewer, self.viewer.model
        if choice.node is not None:
            m.set_highlight(m.to_display(choice.node))
        wanted = replace(m.filters, result=choice.after, compare=choice.before)

        def show_change() -> None:
            v.model.set_metric(choice.metric, delta=True)
            if choice.node is not None:
                v.select_node(v.model.to_display(choice.node))
            else:
                v.refresh_tree()
                v.redraw()

        self.apply_filters(wanted, then=show_change)

    def ask_separation(self) -> None:
        v, m = self.viewer, self.viewer.model
        cache = m.cache
        columns = probe_columns(getattr(cache, "layer_names", []), cache.result_names)
        if not any(is_probe(c) for c in columns):
            v.notify(f"no probe result sets yet: run `blocks-tui probe {getattr(cache, 'path', 'CACHE')}`",
                     severity="warning", timeout=10)
            return
        base, labels = m.base, cache.labels

        def compute(metric: str) -> LayerSeparation:
            predictions = {name: cache.result(name).predicted for name in columns}
            return layer_separation(base, labels, predictions, metric)

        d = m.display
        rows = [(n, m.to_base(n), d.names[n], int(d.depth[n])) for n in d.preorder()]
        v.push_screen(SeparationScreen(compute, rows), self._separation_chosen)

    def _separation_chosen(self, choice: SeparationChoice | None) -> None:
        if choice is None:
            return
        v = self.viewer
        base = v.model.to_base(choice.node)
        self.apply_filters(replace(v.model.filters, result=choice.result),
                           then=lambda: v.select_node(v.model.to_display(base)))
