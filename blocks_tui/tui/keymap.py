"""User keymaps: binding ids mapped to other keys, read from a TOML file.

Where: ``$BLOCKS_TUI_KEYMAP`` if set, else ``$XDG_CONFIG_HOME/blocks-tui/keymap.toml``
(``~/.config/blocks-tui/keymap.toml`` without XDG_CONFIG_HOME).  Format::

    # binding id = "key" or "key1,key2" (Textual key names)
    "matrix.zoom_in" = "enter,space"
    "app.filter" = "F"

    [tree]            # a table works too: tree.down = ...
    down = "ctrl+n"

Ids are listed by the help screen (``?``) and in ``blocks_tui.tui.bindings``.
A broken file never stops the viewer: problems come back as warnings,
which the app shows as notifications, and the rest of the file applies.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .bindings import BY_ID

KEYMAP_ENV = "BLOCKS_TUI_KEYMAP"


def keymap_path(environ: Mapping[str, str] | None = None) -> Path:
    """The keymap file this environment points to (it need not exist)."""
    env = os.environ if environ is None else environ
    if env.get(KEYMAP_ENV):
        return Path(env[KEYMAP_ENV]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "blocks-tui" / "keymap.toml"


@dataclass
class LoadedKeymap:
    """Binding id → keys for ``App.set_keymap``, and what was wrong with the file."""

    path: Path
    keys: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


RENAMED = {f"triage.{name}": f"table.{name}" for name in ("down", "up", "first", "last")}
"""Ids that moved (the triage table's vim keys now belong to every table): still honoured, with a warning."""


def parse_keymap(text: str, path: Path) -> LoadedKeymap:
    """Parse keymap TOML; unknown ids and non-string keys become warnings, not errors."""
    loaded = LoadedKeymap(path)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        loaded.warnings.append(f"{path}: not valid TOML ({exc}); using the default keys")
        return loaded
    for binding_id, keys in _flatten(table).items():
        if binding_id in RENAMED:
            loaded.warnings.append(f"{path}: {binding_id} is now {RENAMED[binding_id]}; please rename it")
            binding_id = RENAMED[binding_id]
        if binding_id not in BY_ID:
            loaded.warnings.append(f"{path}: unknown binding id {binding_id!r} (see the help screen for ids)")
        elif not isinstance(keys, str) or not keys.strip():
            loaded.warnings.append(f"{path}: {binding_id} must be a string of keys such as \"ctrl+j,down\"")
        else:
            loaded.keys[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return loaded


def load_keymap(path: Path | None = None) -> LoadedKeymap:
    """Read the keymap file; a missing file is an empty keymap, an unreadable one a warning."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedKeymap(path)
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedKeymap(path, warnings=[f"{path}: cannot read it ({exc}); using the default keys"])
    return parse_keymap(text, path)


def effective_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """Every binding id with the keys it answers to after ``keymap``."""
    return {binding_id: keymap.get(binding_id, spec.keys) for binding_id, spec in BY_ID.items()}
