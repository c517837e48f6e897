"""Part files: how an extraction survives SIGKILL and splits across shards.

An extraction processes its samples in fixed blocks ("parts").  Each finished
part is written to its own small HDF5 file in ``NAME.h5.parts/`` through a
temp name, fsync and rename, so a kill at any moment loses at most the part
in flight and never damages a finished one.  Resuming skips the parts on
disk.  Shards (``--shard i/n``) write disjoint parts into the same folder,
and merging reads them in order into one cache, so a sharded run equals a
single-process run.  A ``run.json`` manifest records what the parts are of
(options, and content hashes of the checkpoint and of the data), so a resume
with different options, weights or data is refused instead of mixed in.

A part is built in memory and written with plain file calls: a full disk
then fails as one ``OSError`` (ENOSPC) that removes its temp file, instead
of as HDF5 errors halfway through a file, which crashed the writer thread.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import h5py
import numpy as np

from ..atomic import commit_file
from ..errors import CacheError
from ..safe_text import printable

MANIFEST = "run.json"
VOLATILE = ("resume_hint",)  # recorded, but a resume may differ in them
_PART = re.compile(r"^part-(\d{9})\.h5$")
_TEMP = re.compile(r"^(?:part-\d{9}\.h5|run\.json)\.tmp(\d+)$")
_CHANGED = {  # what a changed manifest key means, in the user's words
    "checkpoint_sha256": "the checkpoint's content changed",
    "data_sha256": "the data changed (images added, removed, moved or edited)",
}
_STR = h5py.string_dtype("utf-8")


def parts_folder(final: Path) -> Path:
    """Where the parts of the cache ``final`` live."""
    return final.with_name(final.name + ".parts")


@dataclass
class LayerPart:
    """One layer's share of a part: per-sample responses and per-class sums."""

    collective: np.ndarray  # (n, channels) float16
    class_rows: np.ndarray  # (r,) int64 classes present among the part's good samples
    class_sum: np.ndarray  # (r, channels, d, d) float64
    class_count: np.ndarray  # (r,) int64
    maps: np.ndarray | None = None  # (n, channels, d, d) float16


@dataclass
class Part:
    """Everything one block of samples contributes to the cache."""

    number: int
    index: np.ndarray  # (n,) int64 positions in the run's sample order
    label: np.ndarray  # (n,) int64 true labels
    source: list[str]  # (n,) source paths or ids
    ok: np.ndarray  # (n,) bool: the image loaded
    reason: list[str]  # (n,) why not, "" when ok
    thumbnail: np.ndarray  # (n, H, W, 3) uint8
    results: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # name -> (topk_index, topk_prob, true_prob)
    layers: dict[str, LayerPart] = field(default_factory=dict)


def manifest_changes(existing: Mapping[str, Any] | None, fresh: Mapping[str, Any]) -> list[str]:
    """Keys in which two manifests differ (volatile ones aside); empty when the parts are interchangeable."""
    if existing is None:
        return []
    fresh = json.loads(json.dumps(dict(fresh)))  # compare as stored: tuples become lists
    return sorted(k for k in set(existing) | set(fresh) if k not in VOLATILE and existing.get(k) != fresh.get(k))


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Create the folder and record what its parts are of; refuse a different run."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = read_manifest(folder)
    changed = manifest_changes(existing, manifest)
    if changed:
        said = [_CHANGED[k] for k in changed if k in _CHANGED]
        others = [k for k in changed if k not in _CHANGED and k != "config"] or (["config"] if not said else [])
        what = "; ".join(said + ([f"it differs in {', '.join(others[:4])}"] if others else []))
        raise CacheError(
            f"{printable(folder)} holds parts of another run ({what}); rerun with --overwrite to discard them "
            "and start over, or rerun the run that made them"
        )
    if existing is None:
        write_file_atomically(folder / MANIFEST, json.dumps(dict(manifest), sort_keys=True).encode())


def write_file_atomically(path: Path, data: bytes | memoryview) -> None:
    """Temp file, fsync, rename; a failed write (a full disk) removes its temp file and raises."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        commit_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_dead_temps(folder: Path, alive: Callable[[int], bool]) -> int:
    """Delete temp files left by killed writers (those whose pid is not ``alive``); returns how many."""
    removed = 0
    for path in folder.iterdir() if folder.is_dir() else []:
        if (m := _TEMP.match(path.name)) and not alive(int(m.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when there is none yet."""
    try:
        return json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise CacheError(f"{printable(folder / MANIFEST)}: damaged manifest ({printable(exc, 200)}); "
                         "rerun with --overwrite to start over") from None


def finished_parts(folder: Path) -> set[int]:
    """Numbers of the parts already on disk (temp files of a killed write don't count)."""
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for p in folder.iterdir() if (m := _PART.match(p.name))}


def part_path(folder: Path, number: int) -> Path:
    return folder / f"part-{number:09d}.h5"


def write_part(folder: Path, part: Part) -> Path:
    """Write one part atomically: built in memory, then temp file, fsync, rename."""
    final = part_path(folder, part.number)
    write_file_atomically(final, _part_image(part))
    return final


def _part_image(part: Part) -> bytes:
    """The bytes of a part's HDF5 file, made in memory (HDF5's core driver, no backing store)."""
    # Grown in 1 MiB steps: the default 64 KiB steps copy a 7 MB part over and over (3x slower than on disk).
    with h5py.File(f"part-{part.number}", "w", driver="core", backing_store=False, block_size=1 << 20) as f:
        f.attrs["number"] = part.number
        f["index"] = part.index.astype(np.int64)
        f["label"] = part.label.astype(np.int64)
        f.create_dataset("source", data=part.source, dtype=_STR)
        f["ok"] = part.ok.astype(bool)
        f.create_dataset("reason", data=part.reason, dtype=_STR)
        # Uncompressed: parts are temporary, and compressing twice (here and in
        # the merge) cost the extraction ~5% of its throughput on two cores.
        f["thumbnail"] = part.thumbnail
        for name, (topk_index, topk_prob, true_prob) in part.results.items():
            g = f.create_group(f"results/{name}")
            g["topk_index"] = topk_index.astype(np.int32)
            g["topk_prob"] = topk_prob.astype(np.float32)
            g["true_prob"] = true_prob.astype(np.float32)
        for name, layer in part.layers.items():
            g = f.require_group("layers").create_group(name)
            g["collective"] = layer.collective.astype(np.float16)
            g["class_rows"] = layer.class_rows.astype(np.int64)
            g["class_sum"] = layer.class_sum.astype(np.float64)
            g["class_count"] = layer.class_count.astype(np.int64)
            if layer.maps is not None:
                g["maps"] = layer.maps.astype(np.float16)
        f.flush()
        return f.id.get_file_image()


@dataclass
class PartIndex:
    """The small per-sample fields of a part, read without its thumbnails or responses."""

    label: np.ndarray
    source: list[str]
    ok: np.ndarray
    reason: list[str]


def read_part_index(folder: Path, number: int) -> PartIndex:
    """Labels, sources and load status of a part: what a merge needs to size the cache."""
    path = part_path(folder, number)
    try:
        with h5py.File(path, "r") as f:
            return PartIndex(f["label"][()], list(f["source"].asstr()[()]), f["ok"][()], list(f["reason"].asstr()[()]))
    except (OSError, KeyError) as exc:
        raise CacheError(f"{path}: damaged part ({exc}); delete it and resume to redo it") from None


def read_part(folder: Path, number: int) -> Part:
    """Read a finished part back; a damaged one raises CacheError naming it."""
    path = part_path(folder, number)
    try:
        with h5py.File(path, "r") as f:
            results = {
                name: (g["topk_index"][()], g["topk_prob"][()], g["true_prob"][()])
                for name, g in f["results"].items()
            }
            layers = {
                name: LayerPart(
                    collective=g["collective"][()],
                    class_rows=g["class_rows"][()],
                    class_sum=g["class_sum"][()],
                    class_count=g["class_count"][()],
                    maps=g["maps"][()] if "maps" in g else None,
                )
                for name, g in (f["layers"].items() if "layers" in f else [])
            }
            return Part(
                number=number,
                index=f["index"][()],
                label=f["label"][()],
                source=list(f["source"].asstr()[()]),
                ok=f["ok"][()],
                reason=list(f["reason"].asstr()[()]),
                thumbnail=f["thumbnail"][()],
                results=results,
                layers=layers,
            )
    except (OSError, KeyError) as exc:
        raise CacheError(f"{path}: damaged part ({exc}); delete it and resume to redo it") from None
