"""The one owner of result-set names: the default set, probes, epochs, variants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis import Tree
from blocks_tui.cache import HierarchyArrays
from blocks_tui.cache.result_names import (
    check_result,
    default_output,
    default_result,
    epoch_name,
    is_probe,
    is_transformed,
    is_variant,
    parse_epoch,
    probe_layer,
    probe_name,
    series_final,
)
from blocks_tui.errors import UsageError


def test_the_default_set_is_original_else_the_first() -> None:
    assert default_result(["grayscale", "original"]) == "original"
    assert default_result(["rot90", "grayscale"]) == "rot90"
    # Beside probes, the model's own output: a probe is never the fallback.
    assert default_output(["probe:a", "rot90"]) == "rot90"
    assert default_output(["probe:a", "original"]) == "original"
    assert default_output(["probe:a"]) is None


def test_a_missing_set_is_a_usage_error_that_lists_the_sets() -> None:
    assert check_result(["original"], "original", Path("c.h5")) == "original"
    with pytest.raises(UsageError, match=r"^no result set 'nope' in c.h5; it has original, rot90$"):
        check_result(["original", "rot90"], "nope", Path("c.h5"))


def test_probe_epoch_and_variant_names_round_trip() -> None:
    assert probe_name("layer4.2") == "probe:layer4.2" and is_probe("probe:layer4.2") and not is_probe("original")
    assert probe_layer("probe:layer4.2") == "layer4.2"
    assert epoch_name(3) == "epoch-3" and epoch_name(3, "baseline") == "baseline:epoch-3"
    assert parse_epoch("epoch-12") == 12 and parse_epoch("baseline:epoch-2", "baseline") == 2
    assert parse_epoch("baseline:epoch-2") is None and parse_epoch("epoch-x") is None and parse_epoch("rot90") is None
    assert series_final("") == "original" and series_final("baseline") == "baseline"
    assert is_variant("rot90") and is_variant("original") and not is_variant("epoch-1")
    assert is_transformed({"transform": "grayscale"}) and not is_transformed({"transform": "original"})
    assert not is_transformed({})


def test_a_tree_from_a_stored_hierarchy() -> None:
    h = HierarchyArrays(["all", "a", "b"], np.array([-1, 0, 0]), np.array([-1, 0, 1]), "test")
    tree = Tree.from_hierarchy(h)
    assert tree.names == ("all", "a", "b") and tree.n_nodes == 3
