"""Stale parts never mix into a cache; unreadable batches are skipped (issue 14, items 6 and 8).

Stale parts are made the way an interrupted run leaves them: ``--shard 0/2``
writes half the parts and stops short of merging.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from blocks_tui.cache import open_cache
from blocks_tui.cache.parts import finished_parts, parts_folder, read_part, write_part
from blocks_tui.extract.command import _resume_hint
from test_extract import assert_same_cache, datasets_of, extract_args, run
from image_files import write_image_folder


def _save_weights(path: Path, seed: int) -> None:
    torch.manual_seed(seed)
    torch.save(torchvision.models.resnet18(weights=None, num_classes=3).state_dict(), path)


def _args(folder: Path, out: Path, ckpt: Path, *extra: str) -> list[str]:
    return extract_args(folder, out, "--checkpoint", str(ckpt), "--layers", "layer1", *extra)


def test_a_checkpoint_changed_in_place_refuses_to_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=3)
    ckpt = tmp_path / "latest.pt"
    out = tmp_path / "mixed.h5"
    _save_weights(ckpt, seed=1)
    assert run(_args(folder, out, ckpt, "--shard", "0/2"), capsys)[0] == 0  # half the parts, old weights
    old_parts = finished_parts(parts_folder(out))
    assert old_parts and not out.exists()
    _save_weights(ckpt, seed=2)  # training wrote the next epoch over the same file
    code, err = run(_args(folder, out, ckpt), capsys)
    assert code == 1 and err.count("\n") == 1, err
    assert "holds parts of another run (the checkpoint's content changed)" in err and "--overwrite" in err
    assert finished_parts(parts_folder(out)) == old_parts and not out.exists()  # refused, nothing touched
    code, err = run(_args(folder, out, ckpt, "--overwrite"), capsys)
    assert code == 0, err
    fresh = tmp_path / "fresh.h5"
    assert run(_args(folder, fresh, ckpt), capsys)[0] == 0
    assert_same_cache(out, fresh)  # every row from the new weights
    with open_cache(out) as cache:
        assert len(cache.config["checkpoint_sha256"]) == 64


def test_edited_data_refuses_to_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=3)
    out = tmp_path / "data.h5"
    assert run(extract_args(folder, out, "--layers", "layer1", "--shard", "0/2"), capsys)[0] == 0
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(folder / "b" / "img0.png")  # same name, new pixels
    code, err = run(extract_args(folder, out, "--layers", "layer1"), capsys)
    assert code == 1 and err.count("\n") == 1 and "the data changed" in err, err


def test_the_same_run_still_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=3)
    ckpt = tmp_path / "w.pt"
    _save_weights(ckpt, seed=1)
    out = tmp_path / "resumed.h5"
    assert run(_args(folder, out, ckpt, "--shard", "0/2"), capsys)[0] == 0
    first = read_part(parts_folder(out), 0)
    index, prob, true = first.results["original"]
    first.results["original"] = (index, np.full_like(prob, 0.125), true)  # a mark only reuse can carry over
    write_part(parts_folder(out), first)
    code, err = run(_args(folder, out, ckpt), capsys)
    assert code == 0, err
    with open_cache(out) as cache:
        probs = cache.result("original").topk_prob
        assert (probs[: int(first.ok.sum())] == 0.125).all() and (probs[int(first.ok.sum()):] != 0.125).any()


def test_the_resume_hint_never_says_overwrite() -> None:
    hint = _resume_hint(["extract", "--model", "resnet18", "--overwrite", "-o", "my file.h5"])
    assert hint == "blocks-tui extract --model resnet18 -o 'my file.h5'"


def test_a_batch_of_only_unreadable_files_is_skipped_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_image_folder(tmp_path / "data", ["a", "b", "c"], per_class=2)
    bad = [folder / "a" / "0-broken.jpg", folder / "a" / "1-notes.txt"]  # sorted first in class a: batch 0 alone
    bad[0].write_bytes(b"\xff\xd8\xff\xe0 truncated")
    bad[1].write_text("not an image")
    with_bad = tmp_path / "with-bad.h5"
    code, err = run(extract_args(folder, with_bad, "--layers", "layer1,layer3", "--batch-size", "2"), capsys)
    assert code == 0, err
    assert "Skipped 4 unreadable or non-image inputs" in err  # these two and write_image_folder's two
    for path in bad:
        path.unlink()
    without = tmp_path / "without.h5"
    assert run(extract_args(folder, without, "--layers", "layer1,layer3", "--batch-size", "2"), capsys)[0] == 0
    with open_cache(with_bad) as cache:
        assert {Path(s).name for s, _ in cache.skipped} == {"0-broken.jpg", "1-notes.txt", "corrupt.jpg", "notes.txt"}
    a, b = datasets_of(with_bad), datasets_of(without)
    a = {k: v for k, v in a.items() if not k.startswith("skipped/")}
    b = {k: v for k, v in b.items() if not k.startswith("skipped/")}
    assert a.keys() == b.keys()
    for name in a:  # the bad batch added nothing, not even to the class means (batches differ: float tolerance)
        if a[name].dtype.kind == "f":
            np.testing.assert_allclose(a[name], b[name], rtol=1e-3, atol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
