"""Open a cache in the viewer: the one entry point the CLI calls (``blocks-tui view``, ``demo``)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..atomic import atomic_write_bytes
from ..cache import open_cache
from ..errors import BlocksError
from .layer_budget import LAYER_BUDGET, give_back_dropped_layers


def terminal_problem() -> str | None:
    """Why the viewer cannot run here, if it cannot: Textual reads keys from stdin and draws on stderr."""
    def tty(stream: object) -> bool:
        return bool(stream) and stream.isatty()  # type: ignore[attr-defined]

    if not tty(sys.__stdin__):
        return "the viewer reads keys from stdin, which is not a terminal"
    if not tty(sys.__stderr__):
        return "the viewer draws on stderr, which is redirected (2>...): run it with stderr on the terminal"
    return None


def view(path: Path, result: str | None = None, images: str = "auto", layer_budget: int = LAYER_BUDGET) -> int:
    """Validate the cache and the result set first, so mistakes are one-line errors, then run the app.

    Only labels and one result set's top-k arrays are read before the first
    frame; layer responses and thumbnails stay on disk.
    """
    with open_cache(path) as cache:
        if result is not None:
            cache.require_result(result)
        problem = terminal_problem()
        if problem:  # without a terminal Textual would hang, or draw into a log file
            raise BlocksError(f"{problem}; for text output run `blocks-tui summary {path}`")
        from .app import BlocksApp
        from .images import choose_backend
        from .model import ViewerModel

        backend = choose_backend(images)  # before Textual starts: its probes read the terminal's answers
        give_back_dropped_layers()
        BlocksApp(ViewerModel.open(cache, result), images=backend, layer_budget=layer_budget).run()
    return 0


def screenshot(path: Path, output: Path, size: tuple[int, int] = (120, 40), keys: list[str] | None = None,
               result: str | None = None, images: str = "halfcell", layer_budget: int = LAYER_BUDGET) -> Path:
    """Render the viewer headless at ``size``, press ``keys``, and save an SVG screenshot.

    For bug reports from a box without a display, and for the README's picture;
    needs no terminal.
    """
    import asyncio

    from .app import BlocksApp
    from .images import choose_backend
    from .keymap import LoadedKeymap
    from .model import ViewerModel

    svg: list[str] = []

    async def run(app: BlocksApp) -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for key in keys or []:
                await pilot.press(key)
                await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(3 * app.flow.PANE_DELAY)  # the sample pane follows a resting cursor
            svg.append(app.export_screenshot())

    with open_cache(path) as cache:
        if result is not None:
            cache.require_result(result)
        output.parent.mkdir(parents=True, exist_ok=True)
        # An SVG holds text only: Kitty or Sixel images would not show in it, so those draw as half cells.
        backend = choose_backend(images if images in ("off", "unicode") else "halfcell")
        app = BlocksApp(ViewerModel.open(cache, result), keymap=LoadedKeymap(Path("none.toml")),
                        images=backend, layer_budget=layer_budget)
        asyncio.run(run(app))
    # Not Textual's save_screenshot, which opens the name as given: it would write into a FIFO or a device,
    # and a crash mid-write would leave half an SVG.  The CLI has refused the cache and its triage file.
    atomic_write_bytes(output, svg[0].encode("utf-8"))
    return output
