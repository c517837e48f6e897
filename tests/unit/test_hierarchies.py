"""Hierarchies from WordNet, CIFAR-100 superclasses and JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blocks_tui.analysis import Tree
from blocks_tui.errors import UsageError
from blocks_tui.extract.hierarchies import (
    cifar100_hierarchy,
    flat_hierarchy,
    imagenet1k_wnids,
    json_hierarchy,
    wordnet_hierarchy,
    wordnet_names,
)
from blocks_tui.extract.wordnet import parse_data_noun


def _tree(h) -> Tree:  # type: ignore[no-untyped-def]
    return Tree.from_hierarchy(h)


def _path_names(h, tree: Tree, cls: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.names[n] for n in tree.path(int(tree.leaf_of_class()[cls]))]


def test_packaged_imagenet_wordnet_tree() -> None:
    wnids = imagenet1k_wnids()
    assert len(wnids) == 1000 and wnids[0] == "n01440764" and len(set(wnids)) == 1000
    h = wordnet_hierarchy(wnids)
    tree = _tree(h)  # validates: one root, pre-order, each class exactly one leaf
    assert h.source == "wordnet" and tree.n_classes == 1000
    assert h.names[0] == "entity"
    assert all(len(tree.children(n)) != 1 for n in range(tree.n_nodes)), "single-child chains are contracted"
    # missile (first hypernym: rocket -> vehicle) and projectile (weapon) sit in distant branches
    missile = _path_names(h, tree, wnids.index("n03773504"))
    projectile = _path_names(h, tree, wnids.index("n04008634"))
    assert missile[-2:] == ["vehicle", "missile"] and "weapon" in projectile
    assert _path_names(h, tree, 0)[-3:] == ["soft-finned fish", "cyprinid", "tench"]
    assert wordnet_names(["n01440764", "n04008634"]) == ["tench", "projectile"]


def test_subset_of_imagenet_keeps_class_order_and_contracts() -> None:
    wnids = imagenet1k_wnids()[:6]  # tench goldfish great-white tiger hammerhead electric-ray
    h = wordnet_hierarchy(wnids)
    tree = _tree(h)
    assert tree.order.tolist() == [0, 1, 2, 3, 4, 5]
    assert h.names[0] == "fish"  # everything above the first branching node is contracted away
    assert all(len(tree.children(n)) != 1 for n in range(tree.n_nodes))


DATA_NOUN = """\
  1 This software and database is being provided to you, the LICENSEE, by
00001740 03 n 01 entity 0 001 ~ 00002000 n 0000 | root
00002000 03 n 01 animal 0 002 @ 00001740 n 0000 ~ 00003000 n 0000 | an animal
00002500 03 n 01 pet 0 001 @ 00001740 n 0000 | a pet
00003000 05 n 02 dog 0 domestic_dog 0 002 @ 00002000 n 0000 @ 00002500 n 0000 | a dog
00004000 05 n 01 cat 0 001 @ 00002000 n 0000 | a cat
00005000 05 n 01 Rex 0 001 @i 00002500 n 0000 | a famous dog
"""


def test_system_wordnet_file_is_parsed_and_first_hypernym_wins(tmp_path: Path) -> None:
    path = tmp_path / "data.noun"
    path.write_text(DATA_NOUN)
    synsets = parse_data_noun(path)
    assert synsets["n00003000"].name == "dog" and synsets["n00003000"].parents == ("n00002000", "n00002500")
    assert synsets["n00005000"].parents == ("n00002500",)  # instance hypernym
    h = wordnet_hierarchy(["n00003000", "n00004000", "n00005000"], data_noun=path)
    tree = _tree(h)
    assert _path_names(h, tree, 0) == ["entity", "animal", "dog"]  # dog's first hypernym is animal, not pet
    assert _path_names(h, tree, 2) == ["entity", "Rex"]  # pet has one child: contracted
    assert wordnet_names(["n00003000"], data_noun=path) == ["dog"]


def test_unknown_wnids_without_wordnet_get_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not ImageNet-1k synsets .*install Debian's wordnet-base"):
        wordnet_hierarchy(["n01440764", "n99999999"], data_noun=tmp_path / "absent")


def test_cifar100_two_levels() -> None:
    fine = [f"f{i}" for i in range(10)]
    h = cifar100_hierarchy(fine, ["even", "odd"], [i % 2 for i in range(10)])
    tree = _tree(h)
    assert h.source == "cifar100" and h.names[:2] == ["cifar100", "even"]
    assert tree.classes_of(h.names.index("odd")).tolist() == [1, 3, 5, 7, 9]
    assert int(tree.depth.max()) == 2


def test_flat_hierarchy() -> None:
    h = flat_hierarchy(["a", "b", "c"])
    assert h.names == ["all classes", "a", "b", "c"] and h.class_index.tolist() == [-1, 0, 1, 2]


def test_json_hierarchy(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    spec = {"name": "all", "children": [
        {"name": "vehicles", "children": [{"name": "car"}, {"name": "bus"}]},
        {"name": "pets", "children": [{"name": "wrap", "children": [{"name": "n0001"}]}, {"name": "dog"}]},
    ]}
    path.write_text(json.dumps(spec))
    h = json_hierarchy(path, ["cat", "dog", "car", "bus"], class_ids=["n0001", "n0002", "n0003", "n0004"])
    tree = _tree(h)
    assert h.source == "file"
    # siblings ordered by their first class; "wrap" (one child) contracted
    assert h.names == ["all", "pets", "cat", "dog", "vehicles", "car", "bus"]  # leaves show class names
    assert tree.order.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(h.class_index, [-1, -1, 0, 1, -1, 2, 3])


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"name": "all", "children": [{"name": "cat"}, {"name": "dog"}, {"name": "eel"}]},
         "1 leaves name no class of the data set: eel"),
        ({"name": "all", "children": [{"name": "cat"}]}, "1 classes are missing from the hierarchy: dog"),
        ({"name": "all", "children": [{"name": "cat"}, {"name": "cat"}, {"name": "dog"}]},
         "classes appear more than once: cat"),
        ({"children": []}, 'every node needs a string "name"'),
    ],
)
def test_json_hierarchy_errors(tmp_path: Path, spec: dict, message: str) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(UsageError, match=message):
        json_hierarchy(path, ["cat", "dog"])


def test_json_hierarchy_file_problems(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such hierarchy file"):
        json_hierarchy(tmp_path / "none.json", ["a"])
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(UsageError, match="not a JSON hierarchy"):
        json_hierarchy(tmp_path / "bad.json", ["a"])
