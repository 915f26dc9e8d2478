"""Held-out figures of the feedback-type classifier (``discovery/feedback_type.py``).

Nothing here was trained on; see ``data/feedback_type/SOURCES.md``:

* ``data/feedback_type/heldout.jsonl`` — 632 sentences from Women's E-Commerce Clothing Reviews (CC0),
  the held-out half of Review-Pulse (MIT) and IBM car rental (Apache-2.0), labelled by hand before any
  model existed. Slice ``random`` (422) is a plain random sample (requests are ~2% of it); slice
  ``cue_enriched`` (210) samples sentences containing wish/would/should/could/hope/please/add/option/
  need/want/suggest or "?", to have enough requests and request-shaped hard negatives to measure.
  Each slice is split into ``dev`` (errors may be looked at to improve the rules) and ``test``
  (never looked at): the headline is ``test``.
* Review-Pulse held-out half, annotated issue spans: recall of ``problem`` on bug reports.
* IBM car rental, whole comments: share typed problem among the unsatisfied, praise among the satisfied.

Run: ``python -m benchmarks.feedback_type [--write]`` (about a minute); ``--errors`` prints the
misclassified *dev* rows (never test rows).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, header, per_class
from benchmarks.datasets import DATA
from benchmarks.train_feedback_type import review_pulse_spans
from painpoints.discovery.embed import Embedder
from painpoints.discovery.feedback_type import TYPES, FeedbackTypeModel

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "feedback_type" / "heldout.jsonl"


def per_type(truth: list[str], pred: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = per_class(truth, pred, TYPES)
    present = [t for t in TYPES if out[t]["n"] > 0]
    out["macro_f1_present_types"] = round(float(np.mean([out[t]["f1"] for t in present])), 3)
    out["accuracy"] = round(float(np.mean(np.array(truth) == np.array(pred))), 3)
    out["rows"] = len(truth)
    return out


def _ibm() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    with (DATA / "ibm_car_rental_feedback" / "car_rental_training_data.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if r["Customer_Service"].strip():
                seen.setdefault(r["Customer_Service"].strip(), r["Satisfaction"])
    return list(seen.items())


def evaluate(embedder: Embedder, show_errors: bool = False) -> dict[str, Any]:
    rows = [json.loads(line) for line in HELDOUT.open(encoding="utf-8")]
    texts = [r["text"] for r in rows]
    X = embedder.encode(texts)
    report: dict[str, Any] = {}
    for name, model in (
        ("rules_and_classifier", FeedbackTypeModel().fit()),
        ("classifier_only", FeedbackTypeModel(use_rules=False).fit()),
    ):
        pred, _ = model.predict(X, texts)
        block: dict[str, Any] = {}
        for split in ("test", "dev"):
            for slice_ in ("all", "random", "cue_enriched"):
                keep = [i for i, r in enumerate(rows) if r["split"] == split and slice_ in ("all", r["slice"])]
                block[f"{split}/{slice_}"] = per_type([rows[i]["label"] for i in keep], [pred[i] for i in keep])
        report[name] = block
        if show_errors and name == "rules_and_classifier":
            for i, r in enumerate(rows):
                if r["split"] == "dev" and pred[i] != r["label"]:
                    print(f"{r['label']:>8} → {pred[i]:<8} {r['text'][:150]!r}", file=sys.stderr)
    model = FeedbackTypeModel().fit()
    spans = review_pulse_spans("heldout")
    labels, _ = model.predict(embedder.encode(spans), spans)
    report["review_pulse_heldout_issue_spans"] = {
        "rows": len(spans),
        "problem_recall": round(labels.count("problem") / len(spans), 3),
        "predicted": {t: labels.count(t) for t in TYPES},
    }
    ibm = _ibm()
    labels, _ = model.predict(embedder.encode([t for t, _ in ibm]), [t for t, _ in ibm])
    unsat = [lab for lab, (_, s) in zip(labels, ibm, strict=False) if s == "0"]
    sat = [lab for lab, (_, s) in zip(labels, ibm, strict=False) if s == "1"]
    report["ibm_car_rental_whole_comments"] = {
        "unsatisfied": len(unsat),
        "unsatisfied_typed_problem": round(unsat.count("problem") / len(unsat), 3),
        "satisfied": len(sat),
        "satisfied_typed_praise": round(sat.count("praise") / len(sat), 3),
    }
    return report


def speed(embedder: Embedder) -> dict[str, float]:
    """Seconds per 1,000 segments: the classifier + rules alone, and embedding them (a run has the
    vectors already; the second figure is for a caller that has not)."""
    rows = [json.loads(line)["text"] for line in HELDOUT.open(encoding="utf-8")]
    texts = (rows * 3)[:1000]
    t0 = time.perf_counter()
    X = embedder.encode(texts)
    t1 = time.perf_counter()
    model = FeedbackTypeModel().fit()
    model.predict(X, texts)
    t2 = time.perf_counter()
    return {"classify_seconds_per_1k": round(t2 - t1, 3), "embed_int8_seconds_per_1k": round(t1 - t0, 2)}


def main() -> None:
    argv = sys.argv[1:]
    embedder = Embedder(progress=False).fit()  # int8, as a run embeds
    report = {
        **header("benchmarks.feedback_type", argv),
        **evaluate(embedder, "--errors" in argv),
        "speed": speed(embedder),
    }
    emit(report, Path(__file__).with_name("feedback_type.json"), "--write" in argv)


if __name__ == "__main__":
    main()
