"""Build the bundled samples from ``../shared/data`` (run once by a maintainer; outputs are committed).

* ``data/demo/`` — the demo: app reviews (Review-Pulse, MIT), consumer complaints as tickets
  (CFPB, US public domain), customer-service chats as transcripts (ABCD, MIT).
* ``tests/data/`` — small slices for the end-to-end tests, with their true labels kept as metadata.

Samples are deterministic (fixed seed). Usage: ``python scripts/build_samples.py``.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEMO, TESTS = ROOT / "data" / "demo", ROOT / "tests" / "data"


def review_pulse(n: int, rng: random.Random) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open()]
    return [{"id": r["reviewId"], "text": r["text"]} for r in rng.sample(rows, n)]


def cfpb(n: int, rng: random.Random) -> list[dict]:
    keep = ["Complaint ID", "Date received", "Product", "Issue", "Company", "State", "Consumer complaint narrative"]
    with (DATA / "cfpb_complaints_sample" / "complaints_sample.csv").open(newline="", encoding="utf-8") as fh:
        rows = [{k: r[k] for k in keep} for r in csv.DictReader(fh) if r["Consumer complaint narrative"].strip()]
    return sorted(rng.sample(rows, n), key=lambda r: r["Complaint ID"])


def abcd(subflows: dict[str, int] | int, rng: random.Random, labels: bool) -> list[dict]:
    with (DATA / "abcd" / "abcd_valid_test_labeled.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if isinstance(subflows, int):
        picked = rng.sample(rows, subflows)
    else:
        picked = [r for s, k in subflows.items() for r in rng.sample([r for r in rows if r["subflow"] == s], k)]
    out = []
    for r in picked:
        row = {"conversation_id": f"abcd-{r['split']}-{r['idx']}", "transcript": r["transcript"]}
        if labels:
            row["subflow"] = r["subflow"]
        out.append(row)
    return out


def write_csv(rows: list[dict], path: Path, delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)


def write_jsonl(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    rng = random.Random(7)
    write_jsonl(review_pulse(1500, rng), DEMO / "app_reviews.jsonl")
    write_csv(cfpb(300, rng), DEMO / "complaints.csv")
    write_csv(abcd(300, rng, labels=False), DEMO / "support_chats.csv")
    (DEMO / "manifest.json").write_text(
        json.dumps(
            {
                "files": [
                    {"file": "app_reviews.jsonl", "source": "play_store", "kind": "review"},
                    {"file": "complaints.csv", "source": "cfpb", "kind": "ticket"},
                    {"file": "support_chats.csv", "source": "support_chat", "kind": "transcript"},
                ]
            },
            indent=2,
        )
        + "\n"
    )
    # tests: three well-separated chat problems + a slice of reviews
    write_csv(
        abcd({"recover_password": 30, "slow_speed": 30, "refund_status": 30}, rng, labels=True),
        TESTS / "chats_labelled.csv",
    )
    write_jsonl(review_pulse(120, rng), TESTS / "reviews.jsonl")
    cf = cfpb(40, rng)
    write_csv(cf, TESTS / "complaints.csv")


if __name__ == "__main__":
    main()
