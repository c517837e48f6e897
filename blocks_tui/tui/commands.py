"""Command palette (ctrl+p): every binding's action by name, plus the choices keys only cycle through."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Awaitable, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .bindings import ALL_KEYS, TARGETS
from .model import METRICS, SERIATION_METHODS, SORTS

if TYPE_CHECKING:
    from .app import BlocksApp


def palette_commands(app: "BlocksApp") -> Iterator[tuple[str, Callable[[], Awaitable[None] | None], str]]:
    """(name, callback, help) for every command; widget actions run on their widget."""
    for spec in ALL_KEYS:
        if spec.action == "command_palette":
            continue  # the palette is open already
        target = TARGETS[spec.scope]
        yield (f"{spec.label} ({spec.scope})" if spec.scope not in ("app", "main") else spec.label,
               partial(app.run_scoped_action, spec.action, target), f"{spec.help}  [{spec.id}]")
    for sort in SORTS:
        yield f"Sort children by {sort}", partial(app.navigation.sort, sort), "Reorder the tree and the matrix"
    for metric in METRICS:
        yield f"Tree metric: {metric}", partial(app.navigation.metric, metric, False), f"Show group {metric} per node"
        yield (f"Tree metric: change in {metric}", partial(app.navigation.metric, metric, True),
               f"Show the change in group {metric} against the compared result set")
    for method in SERIATION_METHODS:
        yield (f"Seriate the current block: {method}", partial(app.blocks.seriate, method),
               "Reorder the block and offer it as the hierarchy")
    yield "Partition: automatic block count", partial(app.blocks.partition, None), "Best modularity"
    yield "Partition: back to the hierarchy", partial(app.blocks.restore), "Drop drawn partition blocks"
    yield "Scale: linear", partial(app.navigation.scale, "linear"), "Colour scale"
    yield "Scale: log", partial(app.navigation.scale, "log"), "Colour scale"


class BlocksCommands(Provider):
    """Searches :func:`palette_commands` with Textual's fuzzy matcher."""

    async def discover(self) -> Hits:
        for name, callback, help_text in palette_commands(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in palette_commands(self.app):  # type: ignore[arg-type]
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
