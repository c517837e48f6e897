"""WordNet 3.0 noun hypernyms, read straight from the database file.

The ImageNet hierarchy is WordNet's, so building it needs only the ``@``
(hypernym) and ``@i`` (instance hypernym) pointers of ``data.noun``.  Parsing
them directly takes a fraction of a second and needs neither NLTK nor a
download.  Debian's ``wordnet-base`` package installs the file at
:data:`SYSTEM_DATA_NOUN`; the package ships a precomputed extract for the
ImageNet-1k classes (see :mod:`blocks_tui.extract.make_wordnet_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

SYSTEM_DATA_NOUN = Path("/usr/share/wordnet/data.noun")


@dataclass(frozen=True)
class Synset:
    """One noun synset: its first lemma and its hypernyms, in file order."""

    wnid: str
    name: str
    parents: tuple[str, ...]


def parse_data_noun(path: Path) -> dict[str, Synset]:
    """Every noun synset of a WordNet ``data.noun`` file, keyed by wnid (``n`` + offset)."""
    synsets: dict[str, Synset] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" | ", 1)[0].split()
            offset, _lex, _pos, word_count = fields[:4]
            n_words = int(word_count, 16)
            name = fields[4].replace("_", " ")
            at = 4 + 2 * n_words
            n_pointers = int(fields[at])
            parents_main: list[str] = []
            parents_instance: list[str] = []
            for p in range(n_pointers):
                symbol, target, pos = fields[at + 1 + 4 * p : at + 4 + 4 * p]
                if pos != "n":
                    continue
                if symbol == "@":
                    parents_main.append("n" + target)
                elif symbol == "@i":
                    parents_instance.append("n" + target)
            wnid = "n" + offset
            synsets[wnid] = Synset(wnid, _strip_sense(name), tuple(parents_main + parents_instance))
    return synsets


def _strip_sense(lemma: str) -> str:
    """``'crane(a)'``-style adjective markers never occur in nouns, but keep names plain."""
    return lemma.split("(")[0] if lemma.endswith(")") and "(" in lemma else lemma


def ancestors_closure(synsets: dict[str, Synset], wnids: Iterable[str]) -> dict[str, Synset]:
    """The given synsets and all their hypernyms, transitively (a DAG)."""
    out: dict[str, Synset] = {}
    stack = list(wnids)
    while stack:
        wnid = stack.pop()
        if wnid in out:
            continue
        if wnid not in synsets:
            raise KeyError(f"{wnid} is not a WordNet 3.0 noun synset")
        out[wnid] = synsets[wnid]
        stack.extend(synsets[wnid].parents)
    return out
