"""How the sentences of ``heldout.jsonl`` were drawn (labels were then assigned by hand, row by row).

``python data/feedback_type/sample_heldout.py`` prints the candidate rows as JSON lines, in file order
(``slice``, ``source``, ``license``, ``text``); ``split`` is dev for even positions within a slice and
test for odd ones. Review-Pulse reviews come only from the held-out half (``review_pulse_half`` in
``benchmarks/train_feedback_type.py``: first hex digit of sha1(reviewId) in 8–f).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
from pathlib import Path

DATA = Path(os.environ.get("PAINPOINTS_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SENT = re.compile(r"(?<=[.!?])\s+")
BROAD = re.compile(r"\b(wish|would|should|could|hope|please|if only|add|option|need|want|suggest)\b|\?", re.I)
LICENSE = {
    "womens_clothing_reviews": "CC0-1.0",
    "review_pulse_app_issues": "MIT",
    "ibm_car_rental_feedback": "Apache-2.0",
}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENT.split(text.strip()) if len(s.split()) >= 3]


def pools() -> dict[str, list[str]]:
    with (DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv").open(encoding="utf-8") as fh:
        womens = [r["Review Text"].strip() for r in csv.DictReader(fh) if (r["Review Text"] or "").strip()]
    rp = [json.loads(line) for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open()]
    rp = [r["text"] for r in rp if hashlib.sha1(r["reviewId"].encode()).hexdigest()[0] in "89abcdef"]
    seen: dict[str, None] = {}
    with (DATA / "ibm_car_rental_feedback" / "car_rental_training_data.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if r["Customer_Service"].strip():
                seen.setdefault(r["Customer_Service"].strip(), None)
    return {"womens_clothing_reviews": womens, "review_pulse_app_issues": rp, "ibm_car_rental_feedback": list(seen)}


def random_slice(p: dict[str, list[str]]) -> list[tuple[str, str]]:
    """One random sentence from each of 230 / 120 / 80 random items of the three sources, shuffled."""
    rng, out = random.Random(17), []
    for src, n in (("womens_clothing_reviews", 230), ("review_pulse_app_issues", 120), ("ibm_car_rental_feedback", 80)):
        items = list(p[src])
        rng.shuffle(items)
        for text in items[:n]:
            if s := sentences(text):
                out.append((src, rng.choice(s)))
    rng.shuffle(out)
    return out


def cue_enriched_slice(p: dict[str, list[str]], used: set[str]) -> list[tuple[str, str]]:
    """110 / 70 / 30 sentences containing a BROAD word or "?", one per item, from items (clothing) or
    sentences not drawn for the random slice."""
    rng, out = random.Random(23), []
    womens = list(p["womens_clothing_reviews"])
    random.Random(17).shuffle(womens)
    src_items = {
        "womens_clothing_reviews": womens[230:],
        "review_pulse_app_issues": p["review_pulse_app_issues"],
        "ibm_car_rental_feedback": p["ibm_car_rental_feedback"],
    }
    for src, n in (("womens_clothing_reviews", 110), ("review_pulse_app_issues", 70), ("ibm_car_rental_feedback", 30)):
        items, k = list(src_items[src]), 0
        rng.shuffle(items)
        for text in items:
            if c := [s for s in sentences(text) if BROAD.search(s) and s not in used]:
                s = rng.choice(c)
                used.add(s)
                out.append((src, s))
                k += 1
                if k == n:
                    break
    rng.shuffle(out)
    return out


if __name__ == "__main__":
    p = pools()
    a = random_slice(p)
    b = cue_enriched_slice(p, {t for _, t in a})
    for name, rows in (("random", a), ("cue_enriched", b)):
        for i, (src, text) in enumerate(rows):
            print(
                json.dumps(
                    {
                        "slice": name,
                        "source": src,
                        "license": LICENSE[src],
                        "text": text,
                        "split": "dev" if i % 2 == 0 else "test",
                    },
                    ensure_ascii=False,
                )
            )
