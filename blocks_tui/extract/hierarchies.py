"""Class hierarchies from WordNet, CIFAR-100's superclasses, or a JSON file.

Each builder returns a :class:`~blocks_tui.cache.HierarchyArrays` in
depth-first pre-order, ready for the cache.  Pure Python: no torch, so it is
cheap to test and to reuse.

WordNet is a DAG (38 of the ImageNet-1k classes have several hypernyms); the
tree keeps, for every synset, its **first-listed hypernym** in WordNet's
``data.noun``, which is WordNet's primary sense of "is a".  Single-child
chains are then contracted, as in the paper, so every level branches.
Siblings are ordered by the smallest class index below them, which keeps the
data set's own order where the tree allows.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from ..cache import HierarchyArrays
from ..cache.tree_arrays import contract_single_child_chains, preorder_arrays
from ..errors import UsageError
from .wordnet import SYSTEM_DATA_NOUN, Synset, ancestors_closure, parse_data_noun

IMAGENET_WORDNET = Path(__file__).with_name("data") / "imagenet1k_wordnet.json"


@lru_cache(maxsize=1)
def packaged_imagenet_synsets() -> tuple[list[str], dict[str, Synset]]:
    """The packaged ImageNet-1k wnids (torchvision order) and their WordNet ancestors."""
    payload = json.loads(IMAGENET_WORDNET.read_text())
    synsets = {w: Synset(w, name, tuple(parents)) for w, (name, parents) in payload["synsets"].items()}
    return payload["classes"], synsets


def imagenet1k_wnids() -> list[str]:
    """The 1000 ImageNet-1k wnids in torchvision's class order."""
    return list(packaged_imagenet_synsets()[0])


def _synsets_for(wnids: Sequence[str], data_noun: Path | None) -> dict[str, Synset]:
    """Synsets covering ``wnids``: the packaged extract, else the system's WordNet."""
    packaged = packaged_imagenet_synsets()[1]
    if all(w in packaged for w in wnids):
        return packaged
    path = data_noun or SYSTEM_DATA_NOUN
    unknown = [w for w in wnids if w not in packaged]
    if not path.exists():
        raise UsageError(
            f"{len(unknown)} class ids are not ImageNet-1k synsets (e.g. {', '.join(unknown[:3])}) and WordNet "
            f"is not installed at {path}; install Debian's wordnet-base or pass --hierarchy FILE.json"
        )
    try:
        return ancestors_closure(parse_data_noun(path), wnids)
    except KeyError as exc:
        raise UsageError(f"{exc.args[0]}; pass --hierarchy FILE.json for non-WordNet classes") from None


def wordnet_names(wnids: Sequence[str], data_noun: Path | None = None) -> list[str]:
    """Each wnid's first WordNet lemma, e.g. ``n01440764`` → ``tench``."""
    synsets = _synsets_for(wnids, data_noun)
    return [synsets[w].name for w in wnids]


def wordnet_hierarchy(wnids: Sequence[str], data_noun: Path | None = None) -> HierarchyArrays:
    """The WordNet tree over ``wnids`` (class i is ``wnids[i]``), contracted."""
    if len(set(wnids)) != len(wnids):
        raise UsageError("class ids repeat; a WordNet hierarchy needs one synset per class")
    synsets = _synsets_for(wnids, data_noun)
    class_of = {w: i for i, w in enumerate(wnids)}
    children: dict[str, list[str]] = {}
    seen: set[str] = set()
    stack = list(wnids)
    root = ""
    while stack:
        wnid = stack.pop()
        if wnid in seen:
            continue
        seen.add(wnid)
        parents = synsets[wnid].parents
        if not parents:
            root = wnid
            continue
        children.setdefault(parents[0], []).append(wnid)
        stack.append(parents[0])
    # A class that is also an ancestor of another class (rare) keeps its own
    # leaf: it becomes a group with the class itself as its first child.
    for wnid in wnids:
        if wnid in children:
            leaf = f"{wnid}#class"
            class_of[leaf] = class_of.pop(wnid)
            children[wnid].insert(0, leaf)
    return _finish(root, children, class_of, lambda key: synsets[key.split("#")[0]].name, "wordnet")


def cifar100_hierarchy(fine_names: Sequence[str], coarse_names: Sequence[str], coarse_of_fine: Sequence[int]) -> HierarchyArrays:
    """CIFAR-100's two levels: 20 superclasses of 5 classes each."""
    if len(coarse_of_fine) != len(fine_names):
        raise UsageError(f"{len(fine_names)} fine classes but {len(coarse_of_fine)} superclass indices")
    children: dict[str, list[str]] = {"cifar100": [f"coarse:{c}" for c in range(len(coarse_names))]}
    for fine, coarse in enumerate(coarse_of_fine):
        children.setdefault(f"coarse:{coarse}", []).append(f"fine:{fine}")
    class_of = {f"fine:{i}": i for i in range(len(fine_names))}
    names = {f"coarse:{i}": n for i, n in enumerate(coarse_names)} | {f"fine:{i}": n for i, n in enumerate(fine_names)}
    return _finish("cifar100", children, class_of, names.get, "cifar100", contract=False)


def flat_hierarchy(class_names: Sequence[str]) -> HierarchyArrays:
    """One root over every class: for ``--hierarchy none``."""
    children = {"all classes": [f"class:{i}" for i in range(len(class_names))]}
    class_of = {f"class:{i}": i for i in range(len(class_names))}
    names = {f"class:{i}": n for i, n in enumerate(class_names)}
    return _finish("all classes", children, class_of, lambda k: names.get(k, k), "file", contract=False)


def json_hierarchy(path: Path, class_names: Sequence[str], class_ids: Sequence[str] | None = None) -> HierarchyArrays:
    """A nested ``{"name": ..., "children": [...]}`` file; leaves name classes (by name or id).

    Every class must appear exactly once; unknown leaves and missing classes
    are reported by name.
    """
    try:
        tree = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such hierarchy file") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a JSON hierarchy ({exc})") from None
    lookup = {name: i for i, name in enumerate(class_names)}
    if class_ids:
        lookup.update({cid: i for i, cid in enumerate(class_ids)})
    children: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    class_of: dict[str, int] = {}
    unknown: list[str] = []

    def visit(node: Any, key: str) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            raise UsageError(f"{path}: every node needs a string \"name\" (at {key or 'the root'})")
        names[key] = node["name"]
        kids = node.get("children") or []
        if not isinstance(kids, list):
            raise UsageError(f"{path}: \"children\" of {node['name']!r} must be a list")
        if not kids:
            if node["name"] in lookup:
                class_of[key] = lookup[node["name"]]
                names[key] = class_names[class_of[key]]  # a leaf named by id shows the class name
            else:
                unknown.append(node["name"])
            return
        children[key] = [f"{key}/{i}" for i in range(len(kids))]
        for child, child_key in zip(kids, children[key]):
            visit(child, child_key)

    visit(tree, "")
    if unknown:
        raise UsageError(f"{path}: {len(unknown)} leaves name no class of the data set: {', '.join(unknown[:5])}")
    placed = sorted(class_of.values())
    twice = sorted({c for c in placed if placed.count(c) > 1})
    if twice:
        raise UsageError(f"{path}: classes appear more than once: {', '.join(class_names[c] for c in twice[:5])}")
    missing = sorted(set(range(len(class_names))) - set(placed))
    if missing:
        raise UsageError(
            f"{path}: {len(missing)} classes are missing from the hierarchy: {', '.join(class_names[c] for c in missing[:5])}"
        )
    return _finish("", children, class_of, names.get, "file")


def _finish(root: str, children: dict[str, list[str]], class_of: dict[str, int], name: Any, source: str,
            contract: bool = True) -> HierarchyArrays:
    """Contract, order siblings by their first class, and flatten to pre-order arrays."""
    if contract:
        root, children = contract_single_child_chains(root, children)
    keys = _all_keys(root, children)
    first: dict[str, int] = {}
    for key in reversed(keys):  # children come after their parent in ``keys``
        kids = children.get(key)
        first[key] = min(first[k] for k in kids) if kids else class_of[key]
    for key, kids in children.items():
        kids.sort(key=first.__getitem__)
    names, parent, class_index = preorder_arrays(root, children, class_of, {k: name(k) or k for k in keys})
    return HierarchyArrays(names=names, parent=parent, class_index=class_index, source=source)


def _all_keys(root: str, children: dict[str, list[str]]) -> list[str]:
    out, stack = [], [root]
    while stack:
        key = stack.pop()
        out.append(key)
        stack.extend(children.get(key, []))
    return out
