"""``/``: classes, groups and samples by name, best match first."""

from __future__ import annotations

import numpy as np

from blocks_tui.analysis import Tree
from blocks_tui.analysis.find import find, match_rank

# all → {colours → {green-blob, blue-blob}, sea → {coral, coral-reef, anemone}}
NAMES = ["all", "colours", "green-blob", "blue-blob", "sea", "coral", "coral-reef", "anemone"]
PARENT = np.array([-1, 0, 1, 1, 0, 4, 4, 4])
CLASS_INDEX = np.array([-1, -1, 0, 1, -1, 2, 3, 4])
CLASSES = ["green-blob", "blue-blob", "coral", "coral-reef", "anemone"]
TREE = Tree.from_arrays(NAMES, PARENT, CLASS_INDEX)
LABELS = np.array([0, 1, 2, 3, 4, 4])


def test_tiers_whole_name_then_prefix_word_substring_letters() -> None:
    assert match_rank("coral", "coral")[0] == 0
    assert match_rank("cor", "coral")[0] == 1
    assert match_rank("reef", "coral-reef")[0] == 2
    assert match_rank("ora", "coral")[0] == 3
    assert match_rank("grn blb", "green-blob")[0] == 4
    assert match_rank("CORAL", "Coral-Reef")[0] == 1  # case blind
    assert match_rank("xyz", "coral") is None and match_rank("  ", "coral") is None


def test_best_first_classes_and_groups_with_where_they_are() -> None:
    found = find("cor", TREE, CLASSES, labels=LABELS)
    assert [(f.kind, f.name) for f in found] == [("class", "coral"), ("class", "coral-reef"),
                                                 ("group", "colours")]  # c-o-r in order: fuzzy, last
    assert found[0].index == 2 and found[0].detail == "in sea"
    (sea,) = find("sea", TREE, CLASSES, labels=LABELS)
    assert (sea.kind, sea.index, sea.detail) == ("group", 4, "3 classes")
    assert find("all", TREE, CLASSES) == []  # the root is everything: never a match
    assert [f.name for f in find("reef", TREE, CLASSES)] == ["coral-reef"]
    assert [f.name for f in find("blob", TREE, CLASSES)] == ["blue-blob", "green-blob"]  # tie: by name


def test_class_ids_and_sample_numbers() -> None:
    ids = ["n01", "n02", "n09256479", "n03", "n04"]
    (coral,) = find("n0925", TREE, CLASSES, class_ids=ids)
    assert (coral.kind, coral.name) == ("class", "coral")
    first, *_ = find("#5", TREE, CLASSES, labels=LABELS)
    assert (first.kind, first.index, first.name, first.detail) == ("sample", 5, "#5", "labelled anemone")
    assert find("#6", TREE, CLASSES, labels=LABELS) == []  # past the last sample
    assert find("#3", TREE, CLASSES) == []  # no labels: no samples to find
    assert len(find("e", TREE, CLASSES, limit=3)) == 3


def test_numbers_that_are_not_sample_ids_never_crash() -> None:
    """'²' is a digit to str.isdigit() and a key of its own on French keyboards; long pastes exceed int()'s limit."""
    assert find("²", TREE, CLASSES, labels=LABELS) == []
    assert find("#" + "9" * 5000, TREE, CLASSES, labels=LABELS) == []


def test_a_bare_number_is_offered_even_when_many_ids_match_it() -> None:
    names = ["all", "group"] + [f"animal{i}" for i in range(100)]
    tree = Tree.from_arrays(names, np.array([-1, 0] + [1] * 100), np.array([-1, -1] + list(range(100))))
    ids = [f"n0{i:07d}" for i in range(100)]
    found = find("7", tree, names[2:], class_ids=ids, labels=np.zeros(200, dtype=np.int64))
    assert len(found) == 20 and ("sample", 7) in [(f.kind, f.index) for f in found]
    (by_id,) = [f for f in find("n00000042", tree, names[2:], class_ids=ids) if f.kind == "class"]
    assert by_id.name == "animal42" and by_id.detail.startswith("n00000042 · in group")  # why it matched
