"""Seeded damaged caches, and a runner that says how each command took them (issue 14).

Why a generator: the reader's promise is "a valid cache opens fast, anything
else is one line naming what is wrong", and hand-written cases only cover the
damage someone thought of.  So one small but complete cache is written once
through the real writer, and each seed makes one mutated copy of one
*kind* of damage: bytes flipped or zeroed (biased towards HDF5's metadata:
object headers, B-trees, heaps), truncation, a group where a dataset belongs
and the reverse, wrong ranks and dtypes, k = 0, invalid UTF-8, 10 MB
attributes, sizes declared far beyond what the file holds, a corrupt gzip
thumbnail chunk, float or 3-D thumbnails, damaged heap ids of a text dataset
(read lazily), a FIFO or a device as the cache, and damaged triage files.  The kind is ``KINDS[seed % len(KINDS)]`` and every
choice comes from ``numpy.random.default_rng(seed)``, so a failure is
reproduced from its seed alone.

:func:`run` executes commands on one mutant in a forked child (cheap: the
parent has imported everything) under a time limit and a memory cap, so a
hang inside HDF5's C code, a crash on a signal or a 6 GB allocation is an
outcome to count, not the end of the test run.  Outcomes: ``ok`` (exit 0),
``clean`` (exit 1 or 2 with one line on stderr), ``internal`` (the CLI's
catch-all: a bug), ``traceback`` (an exception escaped, or the viewer showed
one), ``noisy`` (more than one line, or one longer than 2,000 characters),
``hang`` and ``crash``.  Besides the CLI commands and the headless viewer,
``reads`` makes every lazy read a cache offers and checks each returns what
it promises (uint8 (n, H, W, 3) thumbnails ...) or raises CacheError.

``python tests/fuzz_caches.py --count 300`` prints the outcome table; with
``PYTHONPATH`` pointing at another checkout it measures that code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

KINDS = (
    "flip", "zero64", "truncate", "group_for_dataset", "dataset_for_group", "rank", "dtype", "k_zero",
    "non_utf8", "huge_attr", "attr_type", "declared_size", "thumb_gzip", "thumb_shape", "values", "special_file",
    "triage", "zero64_heap", "string_ids",
)
COMMANDS = ("info", "summary", "report", "view", "reads", "viewer")
OUTCOMES = ("ok", "clean", "internal", "traceback", "noisy", "hang", "crash")

N_SAMPLES = 40
DECLARED_SAMPLES = 20_000_000  # what a tiny file claims in "declared_size"
HUGE = 10_000_000  # characters of a "huge" attribute
VIEWER_SLOWER = 3  # the headless viewer gets this many times a command's time limit
MEMORY_CAP = 3 << 30  # bytes a child may allocate beyond what it inherited: more is the "view drove it to 5.8 GB" bug
# HDF5 metadata signatures: where flipped or zeroed bytes do the most interesting damage.
_SIGNATURES = (b"OHDR", b"OCHK", b"TREE", b"HEAP", b"GCOL", b"SNOD", b"BTHD", b"BTIN", b"BTLF", b"FRHP",
               b"FHDB", b"FHIB", b"FSHD", b"FSSE", b"EAHD", b"EADB", b"FAHD", b"FADB", b"\x89HDF")
# Keys that reach every lazy read: the response map and its layers, another result set, the outlier and
# mislabel panels (sources, the triage file, a mark written), the sample pane.
VIEWER_KEYS = ("tab", "]", "tab", "r", "o", "1", "m", "w", "l", "enter")


@dataclass(frozen=True)
class Mutant:
    """One damaged copy: ``path`` (a file, FIFO or link), its ``kind``, what was done, and its ``seed``."""

    seed: int
    kind: str
    path: Path
    what: str
    must_fail: bool  # the cache cannot be used: every command must refuse it with one line

    def label(self) -> str:
        return f"seed {self.seed} ({self.kind}: {self.what})"


# -- the valid cache ------------------------------------------------------------------------------------
def build_base(folder: Path) -> Path:
    """A small cache holding every section the reader knows: ids, skipped inputs, two result sets,
    a probe result set and split, a layer with maps, ground truth.  Thumbnails are smooth so that
    they compress and the file's metadata is a sizeable share of its bytes."""
    from blocks_tui.cache import CacheWriter
    from blocks_tui.cache.writer import NewResultSet, append_result_sets

    path = Path(folder) / "base.h5"
    rng = np.random.default_rng(1234)
    names = ["cat", "dog", "car", "bus", "van"]
    node_names = ["all", "animals", "cat", "dog", "vehicles", "car", "bus", "van"]
    parent = np.array([-1, 0, 1, 1, 0, 4, 4, 4])
    class_index = np.array([-1, -1, 0, 1, -1, 2, 3, 4])
    labels = np.repeat(np.arange(5), N_SAMPLES // 5)
    n = len(labels)
    ramp = np.linspace(0, 255, 48, dtype=np.float32)
    thumbs = np.empty((n, 48, 48, 3), dtype=np.uint8)
    for i in range(n):
        thumbs[i] = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (48, 1)), np.full((48, 48), 5.0 * i)],
                             axis=-1).astype(np.uint8)

    def result(noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits = rng.normal(size=(n, 5)) * noise
        logits[np.arange(n), labels] += 2.0
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        order = np.argsort(-probs, axis=1)
        return order, np.take_along_axis(probs, order, 1), probs[np.arange(n), labels]

    with CacheWriter(path, config={"model": "fuzz", "dataset": "fuzz", "seed": 0}) as w:
        w.write_classes(names, ids=[f"n0{i}" for i in range(5)])
        w.write_hierarchy(node_names, parent, class_index, source="file")
        w.write_samples(labels, [f"img/{i:03d}.png" for i in range(n)], thumbs)
        w.write_skipped(["img/bad.png", "img/worse.png"], ["not an image", "truncated"])
        for name, noise in (("original", 1.0), ("grayscale", 2.0)):
            w.write_result_set(name, *result(noise), attrs={"transform": name})
        maps = rng.random((n, 4, 2, 2)).astype(np.float16)
        w.write_layer("stage1", rng.random((5, 4, 2, 2), dtype=np.float32), maps.sum((2, 3)), (1, 4, 8, 8), maps)
        w.write_ground_truth({"planted": [1, 2]})
    append_result_sets(path, [NewResultSet("probe:stage1", *result(1.5))],
                       probe_split=np.arange(n) % 2, split_method="stratified 2-fold, seed 0")
    return path


# -- mutations ----------------------------------------------------------------------------------------
STRING_DATASETS = ("classes/names", "classes/ids", "hierarchy/names", "samples/source", "skipped/source",
                   "skipped/reason")
INT_DATASETS = ("hierarchy/parent", "hierarchy/class_index", "samples/label", "results/original/topk_index",
                "results/grayscale/topk_index", "probes/split")
FLOAT_DATASETS = ("results/original/topk_prob", "results/original/true_prob", "results/grayscale/true_prob",
                  "layers/stage1/class_mean", "layers/stage1/collective", "layers/stage1/maps")
DATASETS = STRING_DATASETS + INT_DATASETS + FLOAT_DATASETS + ("samples/thumbnail",)
GROUPS = ("classes", "hierarchy", "samples", "results", "results/original", "results/grayscale", "layers",
          "layers/stage1", "probes", "skipped")
ATTRS = (("/", "config"), ("/", "producer"), ("/", "created"), ("/", "format"), ("layers/stage1", "layer"),
         ("results/original", "transform"), ("hierarchy", "source"), ("probes", "method"), ("classes", "count"),
         ("layers/stage1", "d"), ("layers/stage1", "output_shape"), ("/", "format_version"), ("/", "complete"))


def _replace(f: h5py.File, name: str, data: object, **options: object) -> None:
    del f[name]
    f.create_dataset(name, data=data, **options)


def _mutate_h5(path: Path, rng: np.random.Generator, kind: str) -> tuple[str, bool]:
    """Apply an h5py-level mutation of ``kind`` in place; returns (what, must_fail)."""
    with h5py.File(path, "r+") as f:
        if kind == "group_for_dataset":
            name = str(rng.choice(DATASETS))
            del f[name]
            f.create_group(name).create_dataset("x", data=np.arange(3))
            return f"group at {name}", True
        if kind == "dataset_for_group":
            name = str(rng.choice(GROUPS))
            del f[name]
            f.create_dataset(name, data=np.arange(N_SAMPLES))
            return f"dataset at {name}", True
        if kind == "rank":
            name = str(rng.choice(DATASETS))
            old = f[name][()]
            shape = old.shape
            choice = rng.integers(3)
            new = (old.reshape(-1) if choice == 0 and old.ndim > 1
                   else np.asarray(old)[..., None] if choice == 1 else np.asarray(old).reshape(shape + (1, 1)))
            if new.dtype.kind == "O":
                new = new.astype(object)
                _replace(f, name, new, dtype=h5py.string_dtype())
            else:
                _replace(f, name, new)
            return f"{name} {shape} -> {new.shape}", True
        if kind == "dtype":
            name = str(rng.choice(DATASETS))
            shape = f[name].shape
            if name in STRING_DATASETS:
                new, dtype = np.zeros(shape, dtype=[np.int32, np.float64][int(rng.integers(2))]), None
            elif name in INT_DATASETS or name == "samples/thumbnail":
                choice = int(rng.integers(3))
                if choice == 2:
                    new, dtype = np.full(shape, "x", dtype=object), h5py.string_dtype()
                else:
                    new, dtype = f[name][()].astype([np.float32, np.complex64][choice]), None
            else:
                choice = int(rng.integers(3))
                if choice == 2:
                    new, dtype = np.full(shape, "x", dtype=object), h5py.string_dtype()
                else:
                    new, dtype = f[name][()].astype([np.int64, np.bool_][choice]), None
            _replace(f, name, new, **({"dtype": dtype} if dtype is not None else {}))
            return f"{name} as {dtype or new.dtype}", True
        if kind == "k_zero":
            name = str(rng.choice(["original", "grayscale", "probe:stage1"]))
            for key, dtype in (("topk_index", np.int32), ("topk_prob", np.float32)):
                _replace(f, f"results/{name}/{key}", np.zeros((N_SAMPLES, 0), dtype=dtype))
            return f"results/{name} with k = 0", True
        if kind == "non_utf8":
            bad = b"caf\xe9 \xff\xfe \xc3("
            if rng.random() < 0.6:
                name = str(rng.choice(STRING_DATASETS))
                values = [v if isinstance(v, bytes) else v.encode() for v in f[name][()]]
                values[int(rng.integers(len(values)))] = bad
                _replace(f, name, np.array(values, dtype=object), dtype=h5py.string_dtype("utf-8"))
                return f"invalid UTF-8 in {name}", False
            where, attr = ATTRS[int(rng.integers(8))]
            f[where].attrs.create(attr, bad, dtype=h5py.string_dtype("utf-8"))
            return f"invalid UTF-8 in attribute {where}:{attr}", False
        if kind == "huge_attr":
            where, attr = ATTRS[int(rng.integers(8))]
            text = "x" * HUGE
            if attr == "config" and rng.random() < 0.5:
                text = json.dumps({"model": "y" * HUGE})
            f[where].attrs[attr] = text
            return f"{len(text):,}-character attribute {where}:{attr}", False
        if kind == "attr_type":
            where, attr = ATTRS[int(rng.integers(len(ATTRS)))]
            values = ["many", np.nan, -3, 10**30, np.arange(6).reshape(2, 3), np.array([1.5, np.inf]), np.bytes_(b"\x00\x01"),
                      np.array(["a", "b"], dtype=object)]
            value = values[int(rng.integers(len(values)))]
            if isinstance(value, np.ndarray) and value.dtype == object:
                f[where].attrs.create(attr, value, dtype=h5py.string_dtype())
            elif isinstance(value, int) and value > 2**63:
                f[where].attrs[attr] = np.float64(value)
            else:
                f[where].attrs[attr] = value
            return f"attribute {where}:{attr} = {value!r}"[:120], False
        if kind == "declared_size":
            n = DECLARED_SAMPLES
            for name, ds in list(_per_sample(f)):
                row = ds.shape[1:]
                dtype, first = ds.dtype, ds[: min(4, ds.shape[0])]
                options = {"compression": "gzip"} if name == "samples/thumbnail" else {}
                del f[name]
                chunk_rows = max(1, min(n, (1 << 20) // max(1, dtype.itemsize * int(np.prod(row, dtype=np.int64)))))
                new = f.create_dataset(name, shape=(n,) + row, dtype=dtype, chunks=(chunk_rows,) + row, **options)
                new[: len(first)] = first
            return f"per-sample datasets declared with {n:,} rows", True
        if kind == "thumb_shape":
            thumbs = f["samples/thumbnail"][()]
            variants = [thumbs.astype(np.float32) / 255, thumbs[..., 0], np.concatenate([thumbs, thumbs[..., :1]], -1),
                        thumbs[:, :0, :0], thumbs.astype(np.int16) * 4, thumbs[..., :1]]
            i = int(rng.integers(len(variants)))
            _replace(f, "samples/thumbnail", variants[i], chunks=True, compression="gzip")
            return f"thumbnails {variants[i].dtype} {variants[i].shape}", True
        if kind == "values":
            i = int(rng.integers(7))
            if i == 0:
                f["results/original/topk_prob"][int(rng.integers(N_SAMPLES)), 0] = np.nan
                return "NaN probability", False
            if i == 1:
                f["results/original/true_prob"][:3] = np.inf
                return "infinite true_prob", False
            if i == 2:  # the third result set is read only when the viewer gets to it
                name = str(rng.choice(["grayscale", "probe:stage1"]))
                f[f"results/{name}/topk_index"][int(rng.integers(N_SAMPLES)), 0] = int(rng.choice([-7, 99, 2**31 - 1]))
                return f"results/{name}: a top-k class out of range", False
            if i == 3:
                f["samples/label"][0] = int(rng.choice([-1, 5, 2**31 - 1]))
                return "label out of range", True
            if i == 4:
                f["probes/split"][1] = 7
                return "probe fold 7", True
            if i == 5:
                f["hierarchy/parent"][3] = 3
                return "hierarchy node its own parent", True
            f["layers/stage1/class_mean"][0, 0] = np.nan
            return "NaN class mean", False
    raise ValueError(kind)


def _per_sample(f: h5py.File) -> list[tuple[str, h5py.Dataset]]:
    n = f["samples/label"].shape[0]
    out: list[tuple[str, h5py.Dataset]] = []

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset) and obj.shape and obj.shape[0] == n and not name.startswith(("classes", "skipped")):
            out.append((name, obj))

    f.visititems(visit)
    return out


def _metadata_offsets(data: bytes) -> list[int]:
    found: list[int] = []
    for sig in _SIGNATURES:
        at = data.find(sig)
        while at >= 0:
            found.append(at)
            at = data.find(sig, at + 1)
    return sorted(found) or [0]


def _near_metadata(data: bytes, rng: np.random.Generator, signature: bytes | None = None) -> int:
    """An offset in or just after a metadata structure half the time (or always, for ``signature``),
    else anywhere."""
    if signature is not None:
        starts = [i for i in _metadata_offsets(data) if data[i: i + 4] == signature] or [0]
        return int(rng.choice(starts)) + int(rng.integers(0, 96))
    if rng.random() < 0.5:
        return int(rng.choice(_metadata_offsets(data))) + int(rng.integers(0, 256))
    return int(rng.integers(len(data)))


def _raw_storage(path: Path, name: str) -> tuple[int, int]:
    """(offset, size) in the file of a dataset's raw data (its first chunk, when chunked)."""
    with h5py.File(path, "r") as f:
        ds = f[name]
        if ds.chunks is None:
            return int(ds.id.get_offset()), int(ds.id.get_storage_size())
        info = ds.id.get_chunk_info(0)
        return int(info.byte_offset), int(info.size)


def make_mutant(base: Path, folder: Path, seed: int) -> Mutant:
    """The damaged copy of ``base`` for ``seed``, written under ``folder``."""
    kind = KINDS[seed % len(KINDS)]
    rng = np.random.default_rng(seed)
    out = Path(folder) / f"m{seed:05d}.h5"
    for old in (out, out.with_name(out.stem + ".triage.json")):
        if old.is_symlink() or old.exists():
            old.unlink()
    if kind == "special_file":
        choice = int(rng.integers(3))
        if choice == 0:
            os.mkfifo(out)
            return Mutant(seed, kind, out, "a FIFO with no writer", True)
        target = ["/dev/zero", "/dev/null"][choice - 1]
        out.symlink_to(target)
        return Mutant(seed, kind, out, f"a link to {target}", True)
    shutil.copyfile(base, out)
    data = bytearray(out.read_bytes())
    if kind in ("flip", "zero64", "zero64_heap"):
        spots = []
        for _ in range(int(rng.integers(1, 4)) if kind != "zero64_heap" else 1):
            at = min(_near_metadata(bytes(data), rng, b"GCOL" if kind == "zero64_heap" else None), len(data) - 1)
            if kind == "flip":
                width = int(rng.integers(1, 9))
                for i in range(at, min(at + width, len(data))):
                    data[i] ^= int(rng.integers(1, 256))
            else:
                width = 64
                data[at: at + width] = bytes(min(width, len(data) - at))
            spots.append(f"{at}+{width}")
        out.write_bytes(bytes(data))
        return Mutant(seed, kind, out, f"{'flipped' if kind == 'flip' else 'zeroed'} bytes at {', '.join(spots)}",
                      False)
    if kind == "truncate":
        cut = int(rng.integers(1, len(data)))
        out.write_bytes(bytes(data[:cut]))
        return Mutant(seed, kind, out, f"truncated to {cut} of {len(data)} bytes", True)
    if kind == "thumb_gzip":
        offset, size = _raw_storage(out, "samples/thumbnail")
        at = offset + int(rng.integers(0, max(1, size - 16)))
        data[at: at + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        out.write_bytes(bytes(data))
        return Mutant(seed, kind, out, f"16 random bytes at {at} inside the first thumbnail chunk", False)
    if kind == "triage":
        return _triage_mutant(seed, rng, out)
    if kind == "string_ids":  # the heap ids a text dataset stores: read only when its strings are
        name = str(rng.choice(["samples/source", "samples/source", "skipped/reason", "classes/names"]))
        offset, size = _raw_storage(out, name)
        at = offset + int(rng.integers(0, max(1, size - 8)))
        data[at: at + 8] = bytes(8) if rng.random() < 0.5 else rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
        out.write_bytes(bytes(data))
        return Mutant(seed, kind, out, f"8 bytes at {at} among the heap ids of {name}", False)
    what, must_fail = _mutate_h5(out, rng, kind)
    return Mutant(seed, kind, out, what, must_fail)


def _triage_mutant(seed: int, rng: np.random.Generator, cache: Path) -> Mutant:
    """A valid cache with a damaged ``NAME.triage.json`` beside it."""
    from blocks_tui.cache import CacheIdentity, open_cache

    with open_cache(cache) as c:
        identity = CacheIdentity.of_cache(c)
    doc = {"format": "blocks-tui-triage", "version": 1,
           "cache": {"file": cache.name, "n_samples": identity.n_samples, "n_classes": identity.n_classes,
                     "class_names_sha256": identity.class_names_sha256, "sources_sha256": identity.sources_sha256},
           "updated": "2026-01-01T00:00:00Z", "outliers": [], "samples": []}
    path = cache.with_name(cache.stem + ".triage.json")
    choice = int(rng.integers(7))
    if choice == 0:
        path.write_text("[" * 100_000 + "]" * 100_000)
        what = "100,000 nested lists"
    elif choice == 1:
        path.write_text(json.dumps(doc).replace('"n_samples": 40', '"n_samples": Infinity'))
        what = "Infinity as the sample count"
    elif choice == 2:
        os.mkfifo(path)
        what = "a FIFO as the triage file"
    elif choice == 3:
        doc["samples"] = [{"sample": int(rng.choice([40, 10**9, 2**70])), "source": "x", "decision": "mislabeled",
                           "note": "", "updated": ""}]
        path.write_text(json.dumps(doc))
        what = "a sample id out of range"
    elif choice == 4:
        path.write_bytes(b"\xff\xfe{not json")
        what = "not UTF-8, not JSON"
    elif choice == 5:
        doc["outliers"] = [{"true": "cat", "predicted": "dog", "decision": "redundant", "note": "n" * HUGE,
                            "updated": ""}]
        path.write_text(json.dumps(doc))
        what = "a 10 MB note"
    else:
        doc["cache"]["n_classes"] = -1e308
        path.write_text(json.dumps(doc).replace("-1e+308", "NaN"))
        what = "NaN as the class count"
    return Mutant(seed, "triage", cache, what, False)


def corpus(base: Path, folder: Path, seeds: range) -> list[Mutant]:
    """The mutants of ``seeds``, written under ``folder``."""
    return [make_mutant(base, folder, seed) for seed in seeds]


# -- running ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """How one command took one mutant."""

    mutant: Mutant
    command: str
    outcome: str
    rc: int | None
    stderr: str
    seconds: float

    def describe(self) -> str:
        tail = " | ".join(self.stderr.strip().splitlines()[-3:])
        return (f"{self.command} on {self.mutant.label()}: {self.outcome} (rc {self.rc}, {self.seconds:.1f} s) "
                f"{tail[:600]}")


def _argv(command: str, path: Path, out: Path) -> list[str]:
    return {"info": ["info", str(path)], "summary": ["summary", str(path), "--json"],
            "report": ["report", str(path), "--format", "md", "-o", str(out / "report.md")],
            "view": ["view", str(path)]}[command]


def classify(rc: int, stderr: str) -> str:
    """A CLI run's outcome from its exit code and stderr (warnings on a success are fine)."""
    lines = stderr.strip().splitlines()
    if "Traceback (most recent call last)" in stderr:
        return "traceback"
    if any("internal error" in line for line in lines):
        return "internal"
    if rc == 0:
        return "ok"
    errors = [line for line in lines if not line.startswith("blocks-tui: warning:")]
    return "clean" if rc in (1, 2) and len(errors) == 1 and len(errors[0]) <= 2000 else "noisy"


def _viewer(path: Path, images: str) -> str:
    """Drive the viewer headless through VIEWER_KEYS; the outcome ('ok' or 'clean'), raising what escaped."""
    import asyncio

    from blocks_tui.cache import open_cache
    from blocks_tui.errors import BlocksError
    from blocks_tui.tui.app import BlocksApp
    from blocks_tui.tui.images import ImageBackend
    from blocks_tui.tui.keymap import LoadedKeymap
    from blocks_tui.tui.model import ViewerModel

    try:
        cache = open_cache(path)
    except BlocksError as exc:
        print(f"blocks-tui: error: {exc}", file=sys.stderr)
        return "clean"
    with cache:
        try:
            model = ViewerModel.open(cache, None)
        except BlocksError as exc:
            print(f"blocks-tui: error: {exc}", file=sys.stderr)
            return "clean"
        app = BlocksApp(model, keymap=LoadedKeymap(Path("none.toml")), images=ImageBackend(images, "fuzz"))

        async def drive() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                for key in VIEWER_KEYS:
                    await pilot.press(key)
                await app.workers.wait_for_complete()
                await pilot.pause(2 * app.flow.PANE_DELAY)

        asyncio.run(drive())
    return "ok"


def _reads(path: Path) -> str:
    """Every lazy read the cache offers, checked against its contract: the promised dtype and shape, or a
    CacheError; 'clean' when the first one failed that way."""
    from blocks_tui.cache import CacheError, open_cache

    try:
        with open_cache(path) as cache:
            n = cache.n_samples
            pixels = cache.thumbnails(np.arange(n))
            assert pixels.dtype == np.uint8 and pixels.ndim == 4 and pixels.shape[::3] == (n, 3), pixels.shape
            assert cache.thumbnail(n - 1).shape == pixels.shape[1:]
            assert len(cache.sources) == n and all(isinstance(v, str) for v in cache.sources)
            cache.skipped, cache.describe(), cache.probe_split, cache.probe_split_method
            for name in cache.result_names:
                result = cache.result(name)
                assert result.topk_index.shape == result.topk_prob.shape == (n, result.k) and result.k >= 1
                assert result.true_prob.shape == (n,) and isinstance(result.attrs, dict)
            for name in cache.layer_names:
                layer = cache.layer(name)
                assert layer.class_mean().shape == (cache.n_classes, layer.channels, layer.d, layer.d)
                assert layer.collective(np.array([n - 1, 0])).shape == (2, layer.channels)
                if layer.has_maps:
                    assert layer.maps(np.array([0])).shape == (1, layer.channels, layer.d, layer.d)
    except CacheError as exc:
        print(f"blocks-tui: error: {exc}", file=sys.stderr)
        return "clean"
    return "ok"


def _one(command: str, mutant: Mutant, out: Path, images: str) -> tuple[str, int]:
    """Runs in the forked child: one command's outcome and exit code, its stderr written to fd 2."""
    if command in ("viewer", "reads"):
        try:
            outcome = _viewer(mutant.path, images) if command == "viewer" else _reads(mutant.path)
        except BaseException:  # noqa: BLE001 - an escaped exception is what is being counted
            traceback.print_exc()
            return "traceback", 1
        return outcome, 0 if outcome == "ok" else 1
    from blocks_tui.cli import main

    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        try:
            rc = main(_argv(command, mutant.path, out))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            rc = 1
    sys.stderr.write(stderr.getvalue())
    return classify(rc, stderr.getvalue()), rc


def _address_space() -> int:
    """Bytes of virtual memory this process holds now (Linux: /proc/self/statm), 0 where unknown."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(commands: tuple[str, ...], mutant: Mutant, out: Path, write_end: int, images: str) -> None:
    """The forked child: each command in turn, one JSON line on the pipe as each ends.  Never returns."""
    code = 3
    try:
        # The cap counts from what the child inherits: a test process that has loaded torch (the demo
        # fixture) already holds about 4 GB of address space, and a fixed cap failed every allocation.
        limit = _address_space() + MEMORY_CAP
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for i, command in enumerate(commands):
            fd = os.open(out / f"stderr-{i}.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 2)
            os.close(fd)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            started = time.perf_counter()
            outcome, rc = _one(command, mutant, out, images)
            sys.stderr.flush()
            os.write(write_end, (json.dumps([outcome, rc, time.perf_counter() - started]) + "\n").encode())
        code = 0
    finally:
        os._exit(code)


def preload() -> None:
    """Import what the commands import, once, in the parent: every forked child then starts warm."""
    import blocks_tui.analysis.report  # noqa: F401
    import blocks_tui.cli  # noqa: F401
    import blocks_tui.render.info  # noqa: F401
    import blocks_tui.render.summary  # noqa: F401
    import blocks_tui.tui.app  # noqa: F401
    import blocks_tui.tui.launch  # noqa: F401
    import blocks_tui.tui.model  # noqa: F401


def run(commands: tuple[str, ...], mutant: Mutant, scratch: Path, limit_s: float = 10.0,
        images: str = "off") -> list[Run]:
    """``commands`` (of COMMANDS) on ``mutant``, one after the other in one forked child, each
    allowed ``limit_s`` seconds (the viewer VIEWER_SLOWER times that); after a hang or a crash the rest
    run in a fresh child."""
    out = Path(scratch)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    while len(runs) < len(commands):
        todo = commands[len(runs):]
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _child(todo, mutant, out, write_end, images)
        os.close(write_end)
        buffer, done, started, ended = b"", 0, time.perf_counter(), "killed"
        while done < len(todo):
            allowed = limit_s * (VIEWER_SLOWER if todo[done] == "viewer" else 1)
            ready, _, _ = select.select([read_end], [], [], max(0.0, started + allowed - time.perf_counter()))
            if not ready:
                ended = "hang"
                break
            chunk = os.read(read_end, 65536)
            if not chunk:
                ended = "crash"
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                outcome, rc, seconds = json.loads(line)
                runs.append(Run(mutant, todo[done], outcome, rc, _stderr(out, done), seconds))
                done, started = done + 1, time.perf_counter()
        if done < len(todo):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        if done < len(todo):
            rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) and ended == "crash" else None
            runs.append(Run(mutant, todo[done], ended, rc, _stderr(out, done), time.perf_counter() - started))
    return runs


def _stderr(out: Path, i: int) -> str:
    path = out / f"stderr-{i}.txt"
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def commands_for(mutant: Mutant, viewer_every: int = 6) -> tuple[str, ...]:
    """Every CLI command on every mutant; the headless viewer (seconds a run) on every ``viewer_every``-th."""
    return COMMANDS if mutant.seed % viewer_every == 0 else COMMANDS[:-1]


def table(runs: list[Run]) -> str:
    """Outcome counts by command and in all, as a Markdown table."""
    rows = ["| command | runs | " + " | ".join(OUTCOMES) + " |", "|---|---:|" + "---:|" * len(OUTCOMES)]
    for command in (*COMMANDS, "all"):
        picked = [r for r in runs if command in ("all", r.command)]
        counts = Counter(r.outcome for r in picked)
        rows.append(f"| {command} | {len(picked)} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
    return "\n".join(rows)


def problems(runs: list[Run]) -> list[Run]:
    """Runs that broke the promise: anything but ok or a clean line, or 'ok' on a cache that cannot work."""
    return [r for r in runs if r.outcome not in ("ok", "clean") or (r.mutant.must_fail and r.outcome == "ok")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--folder", default="/tmp/fuzz-caches")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds a command may take")
    parser.add_argument("--viewer-every", type=int, default=6)
    parser.add_argument("--images", default="off", help="the viewer's image mode (halfcell reads thumbnails)")
    parser.add_argument("--reuse", action="store_true",
                        help="run on the corpus already in --folder (to measure two checkouts on the same files)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    os.environ.setdefault("COLORTERM", "truecolor")
    manifest = folder / "manifest.json"
    if args.reuse:
        mutants = [Mutant(seed, kind, Path(path), what, must_fail)
                   for seed, kind, path, what, must_fail in json.loads(manifest.read_text())]
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        base = build_base(folder)
        mutants = corpus(base, folder, range(args.first, args.first + args.count))
        manifest.write_text(json.dumps([[m.seed, m.kind, str(m.path), m.what, m.must_fail] for m in mutants]))
    preload()
    started = time.perf_counter()
    runs = [r for m in mutants
            for r in run(commands_for(m, args.viewer_every), m, folder / "scratch", args.limit, args.images)]
    print(f"{len(mutants)} mutants, {len(runs)} runs in {time.perf_counter() - started:.0f} s")
    print(table(runs))
    by_kind: dict[str, Counter[str]] = {}
    for r in runs:
        by_kind.setdefault(r.mutant.kind, Counter())[r.outcome] += 1
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:18} " + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES if counts[o]))
    for r in problems(runs):
        print("  " + r.describe().replace("\n", " "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
