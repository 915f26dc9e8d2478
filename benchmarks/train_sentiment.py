"""Train the offline sentiment classifier shipped in ``discovery/models/sentiment.npz``.

Training data (permissive licenses, from ``../shared/data``):
* UCI sentiment labelled sentences, Amazon + Yelp (CC BY 4.0): negative / positive.
* Women's E-Commerce Clothing Reviews (CC0): rating 1–2 negative, 3 neutral, 4–5 positive.
* CLINC150 train utterances (CC BY 3.0): plain requests and questions as neutral.

Held out (never trained on), reported as macro-F1:
* IBM car-rental feedback (Apache-2.0), satisfied vs not: binary, positive iff score > 0.
* UCI IMDb sentences: binary, positive iff score > 0 (another domain).

Run: ``python -m benchmarks.train_sentiment`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from benchmarks.datasets import DATA
from discovery.embed import Embedder
from discovery.sentiment import CLASSES, WEIGHTS, SentimentModel
from discovery.settings import DEFAULT_MODEL

PER_CLASS = 1500


def _uci(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / "uci_sentiment_labelled_sentences" / name).read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            rows.append((text.strip(), "positive" if label.strip() == "1" else "negative"))
    return rows


def training_set(rng: random.Random) -> list[tuple[str, str]]:
    rows = _uci("amazon_cells_labelled.txt") + _uci("yelp_labelled.txt")
    by_class: dict[str, list[str]] = {c: [] for c in CLASSES}
    with (DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            text, rating = (r.get("Review Text") or "").strip(), int(r["Rating"])
            if text:
                by_class["negative" if rating <= 2 else "neutral" if rating == 3 else "positive"].append(text)
    for c, texts in by_class.items():
        rows += [(t, c) for t in rng.sample(texts, min(PER_CLASS, len(texts)))]
    clinc = json.loads((DATA / "clinc150" / "data_full.json").read_text())["train"]
    rows += [(t, "neutral") for t, _ in rng.sample(clinc, PER_CLASS)]
    return rows


def held_out() -> dict[str, list[tuple[str, str]]]:
    seen, ibm = set(), []
    with (DATA / "ibm_car_rental_feedback" / "car_rental_training_data.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            text = r["Customer_Service"].strip()
            if text and text not in seen:
                seen.add(text)
                ibm.append((text, "positive" if r["Satisfaction"] == "1" else "negative"))
    return {"ibm_car_rental": ibm, "uci_imdb": _uci("imdb_labelled.txt")}


def evaluate(model: SentimentModel, embedder: Embedder) -> dict[str, float]:
    """Binary macro-F1 on each held-out set (positive iff P(pos) > P(neg))."""
    out = {}
    for name, rows in held_out().items():
        _, score = model.predict(embedder.encode([t for t, _ in rows]))
        pred = ["positive" if s > 0 else "negative" for s in score]
        out[name] = round(float(f1_score([y for _, y in rows], pred, average="macro")), 4)
    return out


def main() -> None:
    rng = random.Random(0)
    rows = training_set(rng)
    embedder = Embedder(DEFAULT_MODEL, progress=sys.stderr.isatty()).fit()
    X = embedder.encode([t for t, _ in rows])
    y = np.array([CLASSES.index(c) for _, c in rows])
    clf = LogisticRegression(C=2.0, max_iter=2000).fit(X, y)
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    np.savez(WEIGHTS, coef=clf.coef_.astype(np.float32), intercept=clf.intercept_.astype(np.float32),
             classes=np.array(CLASSES), model=np.array(DEFAULT_MODEL))
    scores = evaluate(SentimentModel(WEIGHTS).fit(), embedder)
    print(json.dumps({"train_rows": len(rows), "held_out_macro_f1": scores}, indent=2))


if __name__ == "__main__":
    main()
