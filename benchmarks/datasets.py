"""Labelled evaluation sets from ``../shared/data`` (or ``$PAINPOINTS_DATA``), each written as a file
painpoints ingests plus the true label per external id.

Every loader returns ``(path_to_ingestable_file, kind, labels_by_external_id)``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

DATA = Path(os.environ.get("PAINPOINTS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _write_jsonl(rows: list[dict], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def clinc150(work: Path) -> tuple[Path, str, dict[str, str]]:
    """CLINC150 test split, in-scope intents only: 4,500 utterances, 150 labels."""
    data = json.loads((DATA / "clinc150" / "data_full.json").read_text())
    rows = [{"id": f"c{i}", "text": t, "label": y} for i, (t, y) in enumerate(data["test"])]
    return _write_jsonl(rows, work / "clinc150.jsonl"), "review", {r["id"]: r["label"] for r in rows}


def abcd(work: Path) -> tuple[Path, str, dict[str, str]]:
    """ABCD chats (valid+test): 2,008 transcripts, 55 subflows; ingested as transcripts."""
    rows = []
    with (DATA / "abcd" / "abcd_valid_test_labeled.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({"id": f"{r['split']}-{r['idx']}", "transcript": r["transcript"], "label": r["subflow"]})
    return _write_jsonl(rows, work / "abcd.jsonl"), "transcript", {r["id"]: r["label"] for r in rows}


def multidogo(work: Path) -> tuple[Path, str, dict[str, str]]:
    """MultiDoGO customer sides with a task intent: ~3,850 conversations, 39 intents."""
    rows = []
    with (DATA / "multidogo" / "multidogo_conversations_dev_test.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["primary_intent"]:
                rows.append(
                    {
                        "id": r["conversation_id"],
                        "text": r["customer_text"],
                        "label": f"{r['domain']}/{r['primary_intent']}",
                    }
                )
    return _write_jsonl(rows, work / "multidogo.jsonl"), "ticket", {r["id"]: r["label"] for r in rows}


def review_pulse(work: Path) -> tuple[Path, str, dict[str, str]]:
    """Review-Pulse app reviews with exactly one issue type: ~780 reviews, 8 labels."""
    rows = []
    for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        kinds = {span[2] for span in r["label"]}
        if len(kinds) == 1:
            rows.append({"id": str(r["id"]), "text": r["text"], "label": kinds.pop()})
    return _write_jsonl(rows, work / "review_pulse.jsonl"), "review", {r["id"]: r["label"] for r in rows}


def cfpb(work: Path) -> tuple[Path, str, dict[str, str]]:
    """CFPB complaints with a consumer narrative: 1,532 complaints, labelled by issue (63 issues,
    heavily skewed: 'Incorrect information on your report' is 26%)."""
    rows = []
    with (DATA / "cfpb_complaints_sample" / "complaints_sample.csv").open(newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            if r["Consumer complaint narrative"].strip():
                rows.append({"id": f"cfpb{i}", "text": r["Consumer complaint narrative"], "label": r["Issue"]})
    return _write_jsonl(rows, work / "cfpb.jsonl"), "ticket", {r["id"]: r["label"] for r in rows}


SETS: dict[str, Callable[[Path], tuple[Path, str, dict[str, str]]]] = {
    "clinc150": clinc150,
    "abcd": abcd,
    "multidogo": multidogo,
    "review_pulse": review_pulse,
    "cfpb": cfpb,
}
