"""Names, sources, notes and attributes from a cache never reach a terminal raw (issue 14.3): the CLI's
outputs, run on a real pty over a cache whose every string carries ESC, OSC 52, ``[/]``, ``[link=…]`` and
``[@click=…]``, hold no escape sequence but the program's own colours, and show the hostile text escaped."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text

from blocks_tui.analysis.report import CSV_COLUMNS
from blocks_tui.cache import CacheWriter, open_cache
from blocks_tui.cache.triage import CacheIdentity, OutlierKey, SampleKey, TriageStore
from blocks_tui.pty_session import PtySession
from blocks_tui.safe_text import escaped, json_escaped, printable

OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # "write 'evil' to the clipboard"
SHOWN_OSC52 = "\\e]52;c;ZXZpbA==\\x07"  # how it must look instead


def evil(tag: str) -> str:
    """``tag`` wrapped in everything a terminal or Rich would act on; the tag comes right after the OSC 52,
    so it survives the cuts that narrow columns make."""
    return (f"{OSC52}{tag}\x1b]0;pwned\x07[/][link=file:///etc/passwd]L[/link][@click=app.quit]Q[/]"
            f"\x1b[2J\x9b31m\x7f\u202e")


def evil_name(tag: str) -> str:
    """The same for HDF5 group names (result sets, layers), which cannot hold '/'."""
    return f"{OSC52}{tag}\x1b]0;pwned\x07[link=https:x]L[@click=app.quit]Q\x1b[2J\x9b31m\u202e"


CLASSES = [evil(t) for t in ("cat", "dog", "car", "bus", "van")]
NODES = [evil("all"), evil("animals"), CLASSES[0], CLASSES[1], evil("vehicles"), *CLASSES[2:]]
PARENT = np.array([-1, 0, 1, 1, 0, 4, 4, 4])
CLASS_INDEX = np.array([-1, -1, 0, 1, -1, 2, 3, 4])
HOSTILE_RESULT = evil_name("result")


def write_hostile_cache(path: Path, n_per_class: int = 6) -> Path:
    """A tiny cache (the tests' cat/dog/car/bus/van tree) in which every string is hostile: class names and
    ids, node names, sources, skipped inputs, configuration keys and values, a result set's name and
    attributes, a layer's name; cat and car are confused across the tree (an outlier row), and the
    triage file holds hostile notes on that pair and on a sample."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), n_per_class)
    n = len(labels)
    config = {"model": evil("model"), "dataset": evil("data"), evil("key"): evil("value")}
    with CacheWriter(path, config=config) as w:
        w.write_classes(CLASSES, ids=[evil(f"id{i}") for i in range(5)])
        w.write_hierarchy(NODES, PARENT, CLASS_INDEX, source="file")
        thumbs = rng.integers(0, 256, (n, 48, 48, 3), dtype=np.uint8)
        w.write_samples(labels, [evil(f"src{i}") for i in range(n)], thumbs)
        w.write_skipped([evil("skipped")], [evil("reason")])
        for name in ("original", HOSTILE_RESULT):
            logits = rng.normal(size=(n, 5))
            logits[np.arange(n), labels] += 1.0
            logits[labels == 0, 2] += 2.5  # cat <-> car, across the tree's two branches
            logits[labels == 2, 0] += 2.5
            probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            order = np.argsort(-probs, axis=1)
            w.write_result_set(name, order, np.take_along_axis(probs, order, 1), probs[np.arange(n), labels],
                               attrs={"transform": evil("transform")})
        w.write_layer(evil_name("layer"), rng.random((5, 8, 2, 2), dtype=np.float32),
                      rng.random((n, 8)).astype(np.float16), output_shape=(1, 8, 16, 16))
    with open_cache(path) as cache:
        store = TriageStore.open(path, CacheIdentity.of_cache(cache))
        pair, sample = OutlierKey(CLASSES[0], CLASSES[2]), SampleKey(1, cache.sources[1])
        assert store.mark(pair, "redundant") and store.note(pair, evil("note"))
        assert store.mark(sample, "mislabeled") and store.note(sample, evil("sample-note"))
    return path


@pytest.fixture(scope="module")
def hostile_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_cache(tmp_path_factory.mktemp("hostile") / "hostile.h5")


# What a program of ours may send: SGR colours and the cursor/screen/mode sequences of a CSI.
OWN_CSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")


def assert_nothing_hostile(data: bytes, what: str) -> None:
    """No OSC (title, clipboard, hyperlink), no BEL, no C1 control, no ESC outside a CSI of the program's own,
    and none of the hostile CSIs the data carried (clear screen, red)."""
    assert b"\x1b]" not in data, f"{what}: an OSC sequence reached the terminal"
    assert b"\x07" not in data, f"{what}: a raw BEL reached the terminal"
    assert b"\x1b[2J" not in data, f"{what}: the data's clear-screen reached the terminal"
    assert "\x9b".encode() not in data and "\u202e".encode() not in data, f"{what}: C1 CSI or bidi override"
    assert b"\x1b" not in OWN_CSI.sub(b"", data), f"{what}: an ESC outside the program's own sequences"


def _run_on_pty(argv: list[str], cwd: Path) -> bytes:
    with PtySession([sys.executable, "-m", "blocks_tui", *argv], size=(200, 50), cwd=str(cwd)) as session:
        assert session.close(timeout=60) is not None
    return session.recording.data


@pytest.mark.parametrize(("argv", "shown"), [
    (["info"], SHOWN_OSC52 + "result"),
    (["summary"], SHOWN_OSC52 + "model"),
    (["summary", "--json"], "\\u001b]52;c;ZXZpbA==\\u0007cat"),
    (["report", "--format", "md"], SHOWN_OSC52 + "note"),
    (["report", "--format", "csv"], SHOWN_OSC52 + "sample-note"),
    (["report", "--format", "json"], "\\u001b]52;c;ZXZpbA==\\u0007note"),
    (["summary", "--result", "nope"], SHOWN_OSC52 + "result"),  # the error line lists the result sets
    (["summary", "--top", OSC52 + "[/]"], "value: '\\x1b]52;c;ZXZpbA==\\x07[/]'"),  # argparse quotes the argument
])
def test_cli_outputs_show_hostile_text_escaped(hostile_cache: Path, argv: list[str], shown: str) -> None:
    data = _run_on_pty([argv[0], str(hostile_cache), *argv[1:]], hostile_cache.parent)
    assert_nothing_hostile(data, " ".join(argv))
    assert shown.encode() in OWN_CSI.sub(b"", data).replace(b"\r\n", b"\n").replace(b"\n", b"")


def test_json_outputs_keep_the_names_exactly(hostile_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from blocks_tui.cli import main

    assert main(["summary", str(hostile_cache), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {p["true"] for p in summary["pairs"]} <= set(CLASSES) and summary["pairs"]
    assert main(["report", str(hostile_cache), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    notes = {d["note"] for d in report["decisions"]}
    assert notes == {evil("note"), evil("sample-note")}  # lossless: JSON escapes, it does not rewrite


def test_csv_and_markdown_reports_escape_every_field(hostile_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from blocks_tui.cli import main

    assert main(["report", str(hostile_cache), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) > 3
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", out)  # newline ends rows; nothing else
    decision = next(r for r in rows if r["section"] == "decision" and r["kind"] == "outlier")
    assert decision["note"] == SHOWN_OSC52 + "note\\e]0;pwned\\x07[/][link=file:///etc/passwd]L[/link]" \
        "[@click=app.quit]Q[/]\\e[2J\\x9b31m\\x7f\\u202e"
    assert main(["report", str(hostile_cache), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", md)
    assert md.count("\n# ") == 0 and md.startswith("# Triage report: hostile.h5")  # names add no headings


def test_escaped_keeps_styles_and_escapes_inside_them() -> None:
    text = Text.assemble(("true ", "dim"), (evil("cat"), "bold"), ("  →  ", "dim"), ("car", "bold red"))
    shown = escaped(text)
    assert shown.plain == "true " + printable(text.plain[5:-8]) + "  →  car"  # Text itself drops BEL
    assert shown.plain.startswith("true \\e]52;c;ZXZpbA==cat\\e]0;pwned[/][link=")
    styles = {shown.plain[s.start:s.end]: str(s.style) for s in shown.spans}
    assert styles["true "] == "dim" and styles["car"] == "bold red"
    assert styles[shown.plain[5:shown.plain.index("  →")]] == "bold"
    plain_text = Text("ordinary", style="bold")
    assert escaped(plain_text) is plain_text  # nothing to escape costs nothing
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=300).print(shown)
    assert_nothing_hostile(out.getvalue().encode(), "escaped Text")


def test_json_escaped_is_the_same_document_and_safe_to_print() -> None:
    doc = {"name": evil("x"), "ünïcode": "東京", "n": [1, 2.5, None]}
    text = json_escaped(json.dumps(doc, indent=1, ensure_ascii=False))
    assert json.loads(text) == doc
    assert "東京" in text and "ünïcode" in text and "\n \"n\"" in text  # letters and layout stay
    assert_nothing_hostile(text.encode(), "json_escaped")
