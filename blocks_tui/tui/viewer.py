"""What a feature of the viewer may ask of the app: the model, the shared widgets, the selection flow, jobs.

Features (:mod:`blocks_tui.tui.widgets.centre`, :mod:`blocks_tui.tui.features`)
are handed the app typed as this protocol, never ``BlocksApp`` itself, so
none of them imports the app and the app can import all of them: the
dependency runs one way, app → features → widgets → model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from .images import ImageBackend
from .model import ViewerModel

if TYPE_CHECKING:
    from .screens.main import MainScreen
    from .features.triage import Triage
    from .selection_flow import SelectionFlow
    from .widgets.centre import Centre
    from .widgets.hierarchy import HierarchyTree
    from .widgets.samples import SamplePane
    from .widgets.status import StatusLine


class Viewer(Protocol):
    """The app as its features see it."""

    model: ViewerModel
    images: ImageBackend
    layer_budget: int  # bytes the response map's loaded layers may hold
    main: "MainScreen"
    flow: "SelectionFlow"
    triage: "Triage"
    tree_node: int | None  # the display node the tree cursor was last put on or moved to

    @property
    def screen(self) -> Screen[Any]: ...

    @property
    def focused(self) -> Widget | None: ...

    @property
    def centre(self) -> "Centre": ...

    @property
    def hierarchy(self) -> "HierarchyTree": ...

    @property
    def samples(self) -> "SamplePane": ...

    @property
    def status(self) -> "StatusLine": ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer: ...

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...

    def push_screen(self, screen: Any, callback: Any = None) -> Any: ...

    def run_job(self, group: str, description: str, work: Callable[[], Any], done: Callable[[Any], None],
                failed: Callable[[], None] | None = None) -> None: ...

    def cancel_jobs(self, groups: tuple[str, ...]) -> list[str]: ...

    def refresh_header(self) -> None: ...

    def refresh_tree(self) -> None: ...

    def refresh_tree_values(self) -> None: ...

    def redraw(self) -> None: ...

    def refresh_bindings(self) -> None: ...

    def after_zoom(self) -> None: ...

    def select_node(self, node: int) -> None: ...
