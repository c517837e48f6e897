"""The layer rules hold: import-linter checks the contracts in pyproject.toml ([tool.importlinter]).

The contracts are the architecture in a form the suite can run: data flows
extract -> cache -> analysis -> tui, imports only go down the layers, only
``cache`` touches h5py, and the viewer path never reaches torch.  A change
that breaks one fails here with the offending import chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import api
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_contracts_cover_every_layer_rule() -> None:
    contracts = {c["name"]: c for c in api.read_configuration(str(PYPROJECT))["contracts_options"]}
    kinds = sorted(c["type"] for c in contracts.values())
    assert kinds.count("forbidden") >= 4 and "layers" in kinds and "protected" in kinds
    layers = next(c for c in contracts.values() if c["type"] == "layers")["layers"]
    assert layers[-2:] == ["analysis", "cache"] and "tui | demo | extract" in layers
    viewer = next(c for c in contracts.values() if c["type"] == "layers" and c["containers"] == ["blocks_tui.tui"])
    assert viewer["layers"][:4] == ["launch", "app", "commands", "features"] and "widgets" in viewer["layers"]
    h5py = next(c for c in contracts.values() if c["type"] == "protected")
    assert h5py["protected_modules"] == ["h5py"] and h5py["allowed_importers"] == ["blocks_tui.cache"]


def test_lint_imports_keeps_every_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 broken" in out, out
