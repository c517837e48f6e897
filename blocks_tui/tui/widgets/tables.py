"""The one table widget: Textual's DataTable with the viewer's vim keys beside its arrows.

The outliers and mislabels panel, the result-set comparison and the layer
× node table all move alike (j/k/h/l, g/G), and a keymap file can move
those keys for all of them at once (ids ``table.*``).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from ..bindings import TABLE_KEYS, bindings


class VimTable(DataTable[Any]):
    """A DataTable that also answers to j/k/h/l and g/G."""

    BINDINGS = bindings(TABLE_KEYS)
