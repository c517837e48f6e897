"""Reordering the current block: partition it into diagonal blocks (b) or seriate it on trial (s).

Both are worker jobs over the window's class similarity.  A seriation is
shown on trial and offered as the new hierarchy; adopting or discarding it
replaces the base tree, whose node ids then mean other nodes, so the
selection flow re-selects the tree cursor's node.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..jobs import Seriated, compute_partition, compute_seriation
from ..screens.dialogs import AdoptDialog, PartitionDialog, SeriationDialog
from ..selection_flow import NodeTarget

if TYPE_CHECKING:
    from ..viewer import Viewer


class BlockTools:
    """Partition (b) and seriation (s) of the block on screen."""

    def __init__(self, viewer: "Viewer") -> None:
        self.viewer = viewer

    # -- partition ---------------------------------------------------------------------------
    def ask_partition(self) -> None:
        start, stop = self.viewer.model.zoom.window()
        self.viewer.push_screen(PartitionDialog(stop - start), self._partition_chosen)

    def _partition_chosen(self, count: int | None) -> None:
        if count is None:
            return
        if count == PartitionDialog.RESTORE:
            self.restore()
        else:
            self.partition(None if count == PartitionDialog.AUTOMATIC else count)

    def restore(self) -> None:
        """Back to the hierarchy's blocks."""
        self.viewer.model.zoom.partition(None)
        self.viewer.redraw()

    def partition(self, count: int | None) -> None:
        """Partition the window into ``count`` blocks (None: the count with the best modularity)."""
        m = self.viewer.model
        classes = m.window_classes()  # the similarity is O(classes²): the worker builds it
        self.viewer.run_job("partition", f"partitioning {len(classes):,} classes",
                            partial(compute_partition, m.counts, classes, count), self._partitioned)

    def _partitioned(self, blocks: Any) -> None:
        self.viewer.model.zoom.partition(blocks)
        self.viewer.redraw()
        self.viewer.status.say(f"{len(blocks)} blocks; Enter on one zooms into it, b then 0 goes back to the hierarchy")

    # -- seriation ----------------------------------------------------------------------------
    def ask_seriation(self) -> None:
        v, m = self.viewer, self.viewer.model
        if m.preview is not None:
            v.notify("adopt or discard the seriation on trial first", severity="warning")
            return
        if m.zoom.seriation_target() is None:
            v.notify("partition blocks are not hierarchy nodes: zoom out to a node to seriate it", severity="warning")
            return
        start, stop = m.zoom.window()
        v.push_screen(SeriationDialog(m.zoom.breadcrumb()[-1], stop - start), self._seriation_chosen)

    def _seriation_chosen(self, method: str | None) -> None:
        if method is not None:
            self.seriate(method)

    def seriate(self, method: str) -> None:
        """Seriate the current node's classes with ``method`` and show the order on trial."""
        m = self.viewer.model
        node = m.zoom.seriation_target()
        if node is None:
            return
        classes = m.window_classes()
        job = partial(compute_seriation, node, classes, m.counts, m.cache.class_names, method, m.base, m.pairs,
                      m.compare_pairs)
        self.viewer.run_job("seriate", f"seriating {len(classes):,} classes ({method})", job, self._seriated)

    def _seriated(self, result: Seriated) -> None:
        self.viewer.model.apply_seriation(result)
        self._new_base()
        what = f"Seriated {self.viewer.model.zoom.breadcrumb()[-1]} with {result.method}: the matrix shows its order."
        self.viewer.push_screen(AdoptDialog(what), self._adopt_chosen)

    def _adopt_chosen(self, adopt: bool | None) -> None:
        if adopt:
            self.viewer.model.adopt()
            self.viewer.redraw()
        else:
            self.viewer.model.discard()
            self._new_base()

    def _new_base(self) -> None:
        """The base tree was replaced (seriation on trial, discarded): base node ids mean other nodes now."""
        v = self.viewer
        v.centre.forget_ranking()
        v.refresh_tree()
        v.redraw()
        node = v.tree_node
        if isinstance(v.flow.target, NodeTarget) and node is not None:
            v.flow.select(NodeTarget(v.model.to_base(node)), now=True)
        if v.centre.showing_responses:
            v.centre.rank_for(v.model.focus_node())
