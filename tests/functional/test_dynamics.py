"""Training dynamics (paper §4.1.1) on the demo: the coarse groups settle before the leaf classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis.dynamics import epoch_series, settling_epochs
from blocks_tui.analysis.hierarchy import Tree
from blocks_tui.cache import open_cache
from blocks_tui.cli import main
from tests.conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT


def test_the_demo_writes_every_epoch_and_original_is_the_last(demo_cache: Path) -> None:
    with open_cache(demo_cache) as cache:
        series = epoch_series(cache.result_names, lambda n: cache.result(n).attrs)
        epochs = cache.config["epochs"]
    assert series == [(e, f"epoch-{e}") for e in range(1, epochs)] + [(epochs, "original")]


def test_dynamics_on_the_demo_top_level_groups_settle_before_the_leaves(
    demo_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dynamics", str(demo_cache), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    groups = {g["name"]: g["settled"] for g in report["groups"]}
    assert set(groups) == {"artifacts", "natural"}
    levels = {level["depth"]: level for level in report["levels"]}
    leaves = levels[max(levels)]
    assert leaves["leaves"] and leaves["recall"][-1] > 80  # the final top-1 accuracy
    # The partition into the two top-level groups settles strictly before the leaf classes,
    # and so does the median top-level group against the median leaf class.
    assert levels[1]["settled"] < leaves["settled"]
    assert np.median(list(groups.values())) < report["leaves"]["median_settled"]
    # Top-level recall is far ahead of leaf accuracy after the first epoch.
    assert levels[1]["recall"][0] > leaves["recall"][0] + 30

    assert main(["dynamics", str(demo_cache)]) == 0
    out = capsys.readouterr().out
    assert "artifacts" in out and "leaf classes at median epoch" in out


def test_settling_epoch_by_hand() -> None:
    """Recall within 5 points of the final value first at the epoch computed by hand."""
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    labels = np.repeat(np.arange(5), 10)
    final = labels.copy()
    mid = labels.copy()
    mid[:2] = 1  # two cats called dogs: cat recall 0.8, animals still 1.0
    mid[20:23] = 3  # three cars called buses: vehicles still 1.0; top-1 accuracy 0.9
    first = labels.copy()
    first[:10] = 2  # every cat called a car: cat and animals recall drop
    s = settling_epochs(tree, labels, [first, mid, final], [1, 2, 5])
    cat, animals = TINY_NODE_NAMES.index("cat"), TINY_NODE_NAMES.index("animals")
    assert s.settled[cat] == 5  # 0.0, 0.8, 1.0: not within 0.05 before the end
    assert s.settled[animals] == 2  # 0.5, 1.0, 1.0
    assert s.level_settled.tolist() == [2, 5]  # depth 1 groups, then the leaves
    loose = settling_epochs(tree, labels, [first, mid, final], [1, 2, 5], tolerance=0.25)
    assert loose.settled[cat] == 2


def test_epoch_series_orders_numerically_and_reads_named_series() -> None:
    names = ["original", "epoch-10", "epoch-2", "baseline", "baseline:epoch-1", "epoch-x"]
    attrs = {"original": {"epoch": 12}, "baseline": {"epoch": 2}}
    assert epoch_series(names, lambda n: attrs.get(n, {})) == [(2, "epoch-2"), (10, "epoch-10"), (12, "original")]
    assert epoch_series(names, lambda n: attrs.get(n, {}), "baseline") == [(1, "baseline:epoch-1"), (2, "baseline")]
    # an 'original' without an epoch attribute is not placed; the largest epoch-N is final
    assert epoch_series(names, lambda n: {}) == [(2, "epoch-2"), (10, "epoch-10")]


def test_cli_errors_are_one_line(tiny_cache: Path, demo_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dynamics", str(tiny_cache)]) == 2
    err = capsys.readouterr().err
    assert "need at least two result sets named epoch-N" in err and err.count("\n") == 1
    assert main(["dynamics", str(demo_cache), "--level", "9"]) == 2
    assert "--level must lie in" in capsys.readouterr().err
    assert main(["dynamics", str(demo_cache), "--tolerance", "-1"]) == 2
    assert "--tolerance takes points" in capsys.readouterr().err
    assert main(["dynamics", str(tiny_cache.parent / "missing.h5")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
