"""The triage report (``blocks-tui report``): what a data curator acts on, as Markdown, CSV or JSON.

Content and rendering live together here, in analysis/, because both are
pure: :func:`build_report` turns arrays, names and saved decisions into plain
records, and the three renderers turn records into text.  Nothing here opens
a file or touches a terminal, so the CLI is a thin shell around it and the
tests can check the content without a cache.  Like the rest of analysis/ it
never reads a data set's ground truth.

JSON (``"format": "blocks-tui-report"``, ``"version": 1``) has the stable
top-level keys ``cache``, ``result``, ``compared``, ``triage``,
``decisions``, ``class_pairs``, ``mislabels`` and ``sensitive_groups``;
each list holds the records below with :func:`dataclasses.asdict`'s keys.

CSV is one table (:data:`CSV_COLUMNS`), one row per record, ``section``
telling which kind of record it is; columns that do not apply stay empty:

==================  =================================================================
``section``         ``decision``, ``class-pair``, ``mislabel`` or ``sensitive-group``
``rank``            position within its section, from 1
``kind``            pair: redundant / subclass / label-noise / ambiguous;
                    decision: outlier / sample; mislabel: confident / possible
``decision``        the curator's saved decision (redundant, mislabeled, ambiguous,
                    expected), if any
``note``            the curator's note, if any
``true_class``      pair: the true class of the heavier cell; sample: its stored label
``predicted_class`` pair: the predicted class of that cell; sample: the top-1 prediction
``count``           pair: samples in the cell; group: samples in the group
``reverse_count``   pair: samples in the opposite cell
``common_ancestor`` pair: the lowest common ancestor node
``distance``        pair: edges between the two classes in the (contracted) tree
``score``           pair: ranking surprise in nats; mislabel: ln p(pred) - ln p(label)
``sample``          sample id (row in the cache)
``source``          that sample's source path
``label_prob``      mislabel: probability of the stored label
``predicted_prob``  mislabel: probability of the prediction
``result``          the result set the row comes from
``group``           sensitive group: the hierarchy node
``before``          sensitive group: recall in the base result set (0-1)
``after``           sensitive group: recall in the compared result set (0-1)
``drop``            sensitive group: before - after
``samples``         pair: sample ids, ``;``-separated: the ``count`` samples of the
                    true → predicted cell, then the ``reverse_count`` of the other;
                    group: the samples of the group right in the base result set
                    and predicted out of the group in the compared one
``sources``         pair or group: their source paths, ``;``-separated, in the same order
==================  =================================================================
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from ..cache.result_names import is_transformed
from ..cache.triage import OutlierKey, SampleKey, TriageEntry
from ..numbers import percent
from ..safe_text import json_escaped, printable
from .hierarchy import Tree
from .filters import filtered_confusion
from .triage import rank_mislabels, rank_outliers, sensitive_groups

REPORT_FORMAT = "blocks-tui-report"
REPORT_VERSION = 1
FORMATS = ("md", "csv", "json")
CSV_COLUMNS = (
    "section", "rank", "kind", "decision", "note", "true_class", "predicted_class", "count", "reverse_count",
    "common_ancestor", "distance", "score", "sample", "source", "label_prob", "predicted_prob", "result",
    "group", "before", "after", "drop", "samples", "sources",
)
MD_SAMPLES_PER_PAIR = 20


class Predictions(Protocol):
    """One result set's arrays; :class:`~blocks_tui.cache.ResultSet` is one."""

    topk_index: np.ndarray
    topk_prob: np.ndarray
    true_prob: np.ndarray


@dataclass(frozen=True)
class DecisionRecord:
    kind: str  # "outlier" or "sample"
    decision: str | None
    note: str
    updated: str
    true_class: str | None  # outlier: its true class; sample: its stored label
    predicted_class: str | None  # outlier: its predicted class; sample: its top-1 in the report's result set
    sample: int | None
    source: str | None


@dataclass(frozen=True)
class PairRecord:
    rank: int
    kind: str
    true_class: str
    predicted_class: str
    count: int
    reverse_count: int
    common_ancestor: str
    distance: int
    score: float
    surprise: float
    coverage: float
    reverse_coverage: float
    confidence: float
    general_class: str  # the broader class (for subclass rows)
    decision: str | None
    note: str
    samples: list[int] = field(default_factory=list)  # true -> predicted
    sources: list[str] = field(default_factory=list)
    reverse_samples: list[int] = field(default_factory=list)  # predicted -> true
    reverse_sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MislabelRecord:
    rank: int
    sample: int
    source: str
    label: str
    predicted: str
    label_prob: float
    predicted_prob: float
    score: float
    confident: bool
    top: list[dict[str, Any]]  # [{"class": name, "prob": p}, ...] best first
    decision: str | None
    note: str


@dataclass(frozen=True)
class SensitiveRecord:
    rank: int
    result: str
    transform: str
    group: str
    depth: int
    classes: int
    support: int
    before: float
    after: float
    drop: float
    samples: list[int] = field(default_factory=list)  # truly in the group, predicted into it before, not after
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    cache: dict[str, Any]
    result: str
    compared: list[str]
    triage: dict[str, Any]  # {"path": ..., "status": "loaded" | "none" | a one-line problem}
    decisions: list[DecisionRecord]
    class_pairs: list[PairRecord]
    mislabels: list[MislabelRecord]
    sensitive_groups: list[SensitiveRecord]


def default_comparisons(result_attrs: Mapping[str, Mapping[str, Any]], base: str) -> list[str]:
    """The result sets made by an input transform (grayscale, rot90, ...), to compare with ``base``.

    A result set whose ``transform`` attribute is something other than
    ``original`` is one; epochs and other models (transform ``original``)
    are not, since their differences are not about colour or orientation.
    """
    return [name for name, attrs in result_attrs.items() if name != base and is_transformed(attrs)]


def build_report(
    *,
    tree: Tree,
    class_names: Sequence[str],
    labels: np.ndarray,
    sources: Sequence[str],
    results: Mapping[str, Predictions],
    result: str,
    compare: Mapping[str, str] | None = None,
    decisions: Sequence[TriageEntry] = (),
    cache_info: Mapping[str, Any] | None = None,
    triage: Mapping[str, Any] | None = None,
    top_pairs: int = 20,
    top_samples: int = 50,
    top_groups: int = 10,
) -> Report:
    """Everything the report holds, as plain records.

    ``results`` maps result-set names to their arrays; ``result`` is the one
    the pairs and mislabels come from; ``compare`` maps further result sets
    to the transform they apply (for the sensitive groups).  ``decisions``
    are the saved triage entries, which are also joined onto the candidates
    they concern (a pair's decision is found in either direction).
    """
    base = results[result]
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(base.topk_index)[:, 0]
    by_key = {e.key: e for e in decisions}

    def saved(*keys: Any) -> tuple[str | None, str]:
        for key in keys:
            if key in by_key:
                return by_key[key].decision, by_key[key].note
        return None, ""

    cells = filtered_confusion(labels, base.topk_index, len(class_names))  # its cell index, no filters
    pairs = []
    for rank, row in enumerate(rank_outliers(tree, labels, base.topk_index, base.topk_prob, limit=top_pairs), 1):
        t, p = class_names[row.true], class_names[row.predicted]
        decision, note = saved(OutlierKey(t, p), OutlierKey(p, t))
        forward, backward = cells.cell_samples(row.true, row.predicted), cells.cell_samples(row.predicted, row.true)
        pairs.append(PairRecord(
            rank, row.kind, t, p, row.count, row.reverse_count, tree.names[row.common_ancestor], row.distance,
            round(row.score, 4), round(row.surprise, 4), round(row.coverage, 4), round(row.reverse_coverage, 4),
            round(row.confidence, 4), class_names[row.general], decision, note,
            forward.tolist(), [sources[s] for s in forward], backward.tolist(), [sources[s] for s in backward],
        ))

    mislabels = []
    rows = rank_mislabels(labels, base.topk_index, base.topk_prob, base.true_prob, limit=top_samples)
    for rank, m in enumerate(rows, 1):
        decision, note = saved(SampleKey(m.sample))
        mislabels.append(MislabelRecord(
            rank, m.sample, sources[m.sample], class_names[m.label], class_names[m.predicted],
            _significant(m.label_prob), _significant(m.predicted_prob), round(m.score, 4), m.confident,
            [{"class": class_names[c], "prob": _significant(p)} for c, p in zip(m.top_classes, m.top_probs)],
            decision, note,
        ))

    sensitive = []
    for name, transform in (compare or {}).items():
        after = np.asarray(results[name].topk_index)[:, 0]
        found = sensitive_groups(tree, labels, predicted, after, limit=top_groups)
        for rank, g in enumerate(found, 1):
            inside = np.zeros(len(class_names), dtype=bool)
            inside[tree.order[int(tree.start[g.node]) : int(tree.stop[g.node])]] = True
            lost = np.flatnonzero(inside[labels] & inside[predicted] & ~inside[after])
            sensitive.append(SensitiveRecord(
                rank, name, transform, tree.names[g.node], int(tree.depth[g.node]), tree.size(g.node), g.support,
                round(g.before, 4), round(g.after, 4), round(g.drop, 4), lost.tolist(), [sources[i] for i in lost],
            ))

    records = []
    for e in decisions:
        if isinstance(e.key, OutlierKey):
            records.append(DecisionRecord("outlier", e.decision, e.note, e.updated, e.key.true, e.key.predicted,
                                          None, None))
        else:
            s = e.key.sample
            inside = 0 <= s < len(labels)
            records.append(DecisionRecord(
                "sample", e.decision, e.note, e.updated,
                class_names[labels[s]] if inside else None, class_names[predicted[s]] if inside else None,
                s, sources[s] if inside else e.key.source,
            ))
    return Report(dict(cache_info or {}), result, list(compare or {}), dict(triage or {"status": "none"}),
                  records, pairs, mislabels, sensitive)


# -- rendering -----------------------------------------------------------------------
def render(report: Report, fmt: str) -> str:
    """The report as ``md``, ``csv`` or ``json`` text."""
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        return render_markdown(report)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def render_json(report: Report) -> str:
    """Strict JSON (RFC 8259): a NaN or infinite number, as a damaged probability gives, is ``null``;
    names keep their letters, but control characters are ``\\u`` escapes, so printing it is safe."""
    doc = _finite({"format": REPORT_FORMAT, "version": REPORT_VERSION, **asdict(report)})
    return json_escaped(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)) + "\n"


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float, at any depth, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def render_csv(report: Report) -> str:
    """One table; names, sources and notes with their control characters made visible (see safe_text)."""
    out = io.StringIO()
    table = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    table.writeheader()

    def write(row: dict[str, Any]) -> None:
        table.writerow({k: printable(v, None) if isinstance(v, str) else v for k, v in row.items()})

    for rank, d in enumerate(report.decisions, 1):
        write({"section": "decision", "rank": rank, "kind": d.kind, "decision": d.decision or "",
               "note": d.note, "true_class": d.true_class or "", "predicted_class": d.predicted_class or "",
               "sample": "" if d.sample is None else d.sample, "source": d.source or "",
               "result": report.result if d.kind == "sample" else ""})
    for p in report.class_pairs:
        write({"section": "class-pair", "rank": p.rank, "kind": p.kind, "decision": p.decision or "",
               "note": p.note, "true_class": p.true_class, "predicted_class": p.predicted_class,
               "count": p.count, "reverse_count": p.reverse_count, "common_ancestor": p.common_ancestor,
               "distance": p.distance, "score": p.score, "result": report.result,
               "samples": ";".join(map(str, p.samples + p.reverse_samples)),
               "sources": ";".join(p.sources + p.reverse_sources)})
    for m in report.mislabels:
        write({"section": "mislabel", "rank": m.rank, "kind": "confident" if m.confident else "possible",
               "decision": m.decision or "", "note": m.note, "true_class": m.label,
               "predicted_class": m.predicted, "score": m.score, "sample": m.sample, "source": m.source,
               "label_prob": m.label_prob, "predicted_prob": m.predicted_prob, "result": report.result})
    for g in report.sensitive_groups:
        write({"section": "sensitive-group", "rank": g.rank, "kind": g.transform, "count": g.support,
               "result": g.result, "group": g.group, "before": g.before, "after": g.after,
               "drop": g.drop, "samples": ";".join(map(str, g.samples)), "sources": ";".join(g.sources)})
    return out.getvalue()


def render_markdown(report: Report) -> str:
    c = report.cache
    lines = [f"# Triage report: {c.get('file', 'cache')}", ""]
    facts = [f"{c.get('n_samples', '?'):,} samples" if isinstance(c.get("n_samples"), int) else "",
             f"{c.get('n_classes'):,} classes" if isinstance(c.get("n_classes"), int) else "",
             f"model {c['model']}" if c.get("model") else "", f"data {c['dataset']}" if c.get("dataset") else ""]
    lines += [", ".join(f for f in facts if f) + f"; result set `{report.result}`.", ""]
    lines += [f"Triage file: {report.triage.get('path', 'none')} ({report.triage.get('status', 'none')}).", ""]

    lines += ["## Decisions", ""]
    if report.decisions:
        lines += _table(["kind", "decision", "true / label", "predicted", "sample", "source", "note"],
                        [[d.kind, d.decision or "", d.true_class or "", d.predicted_class or "",
                          "" if d.sample is None else d.sample, d.source or "", d.note] for d in report.decisions])
    else:
        lines += ["No decisions saved yet (mark rows in `blocks-tui view` with 1-4)."]
    lines += [""]

    lines += ["## Class pairs confused across blocks", "",
              "Redundant: heavy, symmetric confusion across distant branches. Subclass: asymmetric "
              "(one class looks like a part of the other). Label noise: a few confident samples. "
              "Ambiguous: the rest.", ""]
    if report.class_pairs:
        lines += _table(["#", "true → predicted", "count", "reverse", "common ancestor", "distance", "kind",
                         "score", "decision", "note"],
                        [[p.rank, f"{p.true_class} → {p.predicted_class}", p.count, p.reverse_count,
                          p.common_ancestor, p.distance, _kind_label(p), f"{p.score:.1f}", p.decision or "", p.note]
                         for p in report.class_pairs])
        lines += [""]
        for p in report.class_pairs:
            if p.kind not in ("redundant", "subclass"):
                continue
            lines += [f"### {p.rank}. {p.true_class} ↔ {p.predicted_class}: {_kind_label(p)}", ""]
            for label, ids, srcs in ((f"{p.true_class} → {p.predicted_class}", p.samples, p.sources),
                                     (f"{p.predicted_class} → {p.true_class}", p.reverse_samples, p.reverse_sources)):
                shown = [f"{i} `{s}`" for i, s in zip(ids[:MD_SAMPLES_PER_PAIR], srcs)]
                more = f" … and {len(ids) - MD_SAMPLES_PER_PAIR} more (see --format csv)" \
                    if len(ids) > MD_SAMPLES_PER_PAIR else ""
                lines += [f"- {label} ({len(ids)}): " + (", ".join(shown) or "none") + more]
            lines += [""]
    else:
        lines += ["No confusions cross the hierarchy's blocks.", ""]

    lines += ["## Mislabel candidates", "",
              "Misclassified samples, most likely mislabeled first (score = ln p(predicted) - ln p(label)).", ""]
    if report.mislabels:
        lines += _table(["#", "sample", "source", "label", "predicted", "p(pred)", "p(label)", "score", "decision",
                         "note"],
                        [[m.rank, m.sample, f"`{m.source}`", m.label, m.predicted, f"{m.predicted_prob:.3f}",
                          f"{m.label_prob:.2g}", f"{m.score:.1f}", m.decision or "", m.note] for m in report.mislabels])
    else:
        lines += ["No misclassified samples."]
    lines += [""]

    lines += ["## Groups sensitive to colour or rotation", ""]
    if not report.compared:
        lines += ["No transformed result sets (grayscale, rot90, ...) to compare with."]
    for name in report.compared:
        found = [g for g in report.sensitive_groups if g.result == name]
        transform = found[0].transform if found else name
        title = f"`{name}`" if transform == name else f"{transform} (`{name}`)"
        lines += [f"### {title} vs `{report.result}`", ""]
        lines += _table(["#", "group", "classes", "samples", "recall before", "recall after", "drop"],
                        [[g.rank, g.group, g.classes, g.support, percent(g.before), percent(g.after),
                          f"{100 * g.drop:.1f} pts"] for g in found]) if found else \
            ["No group loses 10 or more points of recall."]
        lines += [""]
        for g in found:  # which samples the transform lost, as every other section names its samples
            shown = [f"{i} `{src}`" for i, src in zip(g.samples[:MD_SAMPLES_PER_PAIR], g.sources)]
            more = f" … and {len(g.samples) - MD_SAMPLES_PER_PAIR} more (see --format csv)" \
                if len(g.samples) > MD_SAMPLES_PER_PAIR else ""
            lines += [f"- {g.rank}. {g.group}, right in `{report.result}` and lost in `{name}` ({len(g.samples)}): "
                      + (", ".join(shown) or "none") + more]
        lines += [""] if found else []
    # Every line holds names, sources or notes from the data: shown, never sent raw to a terminal.
    return "\n".join(printable(line, None) for line in lines).rstrip() + "\n"


def _significant(x: float) -> float:
    """Four significant digits: a label probability of 3e-9 must not print as 0."""
    return float(f"{x:.4g}")


def _kind_label(p: PairRecord) -> str:
    if p.kind == "subclass":
        special = p.predicted_class if p.general_class == p.true_class else p.true_class
        return f"subclass ({special} ⊂ {p.general_class}?)"
    return p.kind


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in rows
    ]
