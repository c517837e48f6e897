"""The bindings table and user keymaps (TOML files mapping binding ids to keys)."""

from __future__ import annotations

from pathlib import Path

from textual import actions

from blocks_tui.tui.app import FEATURES, BlocksApp
from blocks_tui.tui.bindings import (
    ALL_KEYS,
    APP_KEYS,
    BY_ID,
    MAIN_KEYS,
    MATRIX_KEYS,
    RESPONSE_KEYS,
    SAMPLE_KEYS,
    SCOPES,
    TARGETS,
    TREE_KEYS,
)
from blocks_tui.tui.commands import palette_commands
from blocks_tui.tui.keymap import effective_keys, keymap_path, load_keymap, parse_keymap
from blocks_tui.tui.widgets.hierarchy import HierarchyTree
from blocks_tui.tui.screens.main import MainScreen
from blocks_tui.tui.widgets.matrix import ConfusionMatrix
from blocks_tui.tui.widgets.responses import ResponseMap
from blocks_tui.tui.widgets.samples import ThumbGrid


def test_every_binding_has_a_unique_scoped_id_and_reaches_its_widget() -> None:
    ids = [spec.id for spec in ALL_KEYS]
    assert len(ids) == len(set(ids))
    assert {spec.scope for spec in ALL_KEYS} == set(SCOPES) == set(TARGETS)
    owners = ((BlocksApp, APP_KEYS), (MainScreen, MAIN_KEYS), (ConfusionMatrix, MATRIX_KEYS),
              (ResponseMap, RESPONSE_KEYS), (HierarchyTree, TREE_KEYS), (ThumbGrid, SAMPLE_KEYS))
    for owner, specs in owners:
        bound = {b.id for b in owner.BINDINGS}  # type: ignore[union-attr]
        assert {s.id for s in specs} <= bound
        for spec in specs:
            where, name, args = actions.parse(spec.action)
            # Main-screen keys run app actions ("app.route(...)"), the rest their owner's.
            assert hasattr(BlocksApp if where == "app" else owner, f"action_{name}"), spec.id
            if name == "route":  # a feature's method: the feature must have it
                feature, _, method = str(args[0]).partition(".")
                assert callable(getattr(FEATURES[feature], method, None)), spec.id


def test_palette_offers_every_binding_and_the_choices() -> None:
    class FakeApp:
        """Any attribute, at any depth (``app.navigation.sort``), is a callable doing nothing."""

        def __getattr__(self, name: str) -> "FakeApp":
            return FakeApp()

        def __call__(self, *args: object) -> None:
            return None

    names = [name for name, _, _ in palette_commands(FakeApp())]  # type: ignore[arg-type]
    assert len(names) == len(set(names))
    helps = " ".join(h for _, _, h in palette_commands(FakeApp()))  # type: ignore[arg-type]
    assert all(f"[{spec.id}]" in helps for spec in ALL_KEYS if spec.id != "app.palette")
    assert {"Sort children by name", "Tree metric: recall", "Seriate the current block: leaf"} <= set(names)


def test_keymap_path_prefers_the_variable_then_xdg(tmp_path: Path) -> None:
    assert keymap_path({"BLOCKS_TUI_KEYMAP": str(tmp_path / "k.toml")}) == tmp_path / "k.toml"
    assert keymap_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "blocks-tui" / "keymap.toml"
    assert keymap_path({}).parts[-3:] == (".config", "blocks-tui", "keymap.toml")


def test_parse_keymap_quoted_ids_and_tables() -> None:
    text = '"matrix.zoom_in" = "enter, space"\n[tree]\ndown = "ctrl+n"\n'
    loaded = parse_keymap(text, Path("k.toml"))
    assert loaded.keys == {"matrix.zoom_in": "enter,space", "tree.down": "ctrl+n"}
    assert loaded.warnings == []
    keys = effective_keys(loaded.keys)
    assert keys["matrix.zoom_in"] == "enter,space" and keys["app.filter"] == BY_ID["app.filter"].keys


def test_parse_keymap_warns_and_keeps_the_rest() -> None:
    loaded = parse_keymap('"app.nope" = "x"\n"app.filter" = 3\n"app.help" = "F1"\n', Path("k.toml"))
    assert loaded.keys == {"app.help": "F1"}
    assert len(loaded.warnings) == 2 and "unknown binding id 'app.nope'" in loaded.warnings[0]
    broken = parse_keymap("this is = not toml [", Path("k.toml"))
    assert broken.keys == {} and "not valid TOML" in broken.warnings[0]


def test_load_keymap_missing_file_is_empty_and_a_folder_warns(tmp_path: Path) -> None:
    assert load_keymap(tmp_path / "absent.toml").keys == {}
    assert "cannot read it" in load_keymap(tmp_path).warnings[0]
    path = tmp_path / "keymap.toml"
    path.write_text('"app.quit" = "ctrl+q"\n', encoding="utf-8")
    assert load_keymap(path).keys == {"app.quit": "ctrl+q"}


def test_renamed_ids_still_move_their_keys_with_a_warning(tmp_path: Path) -> None:
    loaded = parse_keymap('[triage]\ndown = "ctrl+n"\n', tmp_path / "keymap.toml")
    assert loaded.keys == {"table.down": "ctrl+n"}
    assert any("triage.down is now table.down" in w for w in loaded.warnings)
