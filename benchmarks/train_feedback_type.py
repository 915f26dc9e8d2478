"""Train the feedback-type classifier shipped in ``discovery/models/feedback_type.npz``.

Five classes — problem, request, question, praise, other — by multinomial logistic regression on the
int8 sentence embeddings a run computes. Training data, permissive licenses only (``../shared/data``):

* Review-Pulse app reviews (MIT), the *training half* of the reviews (split by a hash of ``reviewId``,
  see ``review_pulse_half``): the annotated issue spans → problem. The other half is held out.
  Reviews of that half with no issue span, no cue and a confidently positive offline sentiment →
  praise (weak labels, ``review_pulse_praise``).
* UCI sentiment labelled sentences, Amazon + Yelp (CC BY 4.0): negative → problem, positive → praise.
* CFPB complaint narratives (US public domain), cut into segments as the pipeline does → problem
  (the complaints bundled in ``data/demo`` and ``tests/data`` excluded).
* CLINC150 train split (CC BY 3.0): problem-report intents (card declined, lost luggage, …) → problem;
  utterances phrased as questions → question; the remaining commands to an assistant ("book me a
  flight", "set an alarm") → other — they are not product feature requests, and the model must learn so.
* MultiDoGO customer turns (CDLA-Permissive-1.0): greetings, thanks, confirmations and service tasks →
  other; report-broken/lost/dispute turns → problem.
* ``data/feedback_type/seed.jsonl`` (MIT, written for this project): feature requests across app,
  SaaS, retail, banking, travel, plus hard negatives (wishes that are complaints, regrets, commands,
  product questions, neutral context). Public corpora hold almost no feature requests.

Never trained on (the held-out sources of ``benchmarks/feedback_type.py``): Women's E-Commerce Clothing
Reviews (CC0), IBM car-rental feedback (Apache-2.0) and the held-out half of Review-Pulse.

Run: ``python -m benchmarks.train_feedback_type`` (embeds ~6k texts: about 1–2 minutes on 2 cores).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.datasets import DATA
from benchmarks.train_sentiment import _bundled_complaints, _uci
from painpoints.discovery.embed import Embedder
from painpoints.discovery.feedback_type import TYPES, WEIGHTS, text_cue
from painpoints.discovery.normalize import segment_feedback
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = ROOT / "data" / "feedback_type" / "seed.jsonl"
SEED_WEIGHT = 3.0  # a written seed row counts as three corpus rows: they are few, and the only requests
C = 1.0
QUESTION = re.compile(
    r"^(what|what's|whats|how|when|where|which|who|why|is there|are there|is it|is my|"
    r"are my|does|do i|do you|did|can i|can you tell|could you tell|will|should i)\b",
    re.I,
)
CLINC_PROBLEMS = {
    "card_declined",
    "damaged_card",
    "report_lost_card",
    "report_fraud",
    "lost_luggage",
    "account_blocked",
}
DOGO_OTHER = {
    "confirmation",
    "openinggreeting",
    "thankyou",
    "closinggreeting",
    "rejection",
    "bookflight",
    "orderpizzaintent",
    "orderdrinkintent",
    "changeseatassignment",
    "getproofofinsurance",
    "getboardingpass",
    "checkbalance",
    "transfermoney",
    "startserviceintent",
    "updateaddress",
}
DOGO_PROBLEMS = {"reportbrokensoftware", "reportbrokenphone", "reportlostcard", "disputecharge"}


def review_pulse_half(review_id: str) -> str:
    """'train' or 'heldout': a fixed split of Review-Pulse by review, so no review is on both sides."""
    return "heldout" if hashlib.sha1(review_id.encode()).hexdigest()[0] in "89abcdef" else "train"


def review_pulse_spans(half: str) -> list[str]:
    """Issue spans (bug reports, complaints) of one half of Review-Pulse."""
    out = []
    for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if review_pulse_half(r["reviewId"]) == half:
            out += [r["text"][a:b].strip() for a, b, _ in r["label"] if len(r["text"][a:b].split()) >= 2]
    return out


def review_pulse_praise(embedder: Embedder, n: int, rng: random.Random) -> list[str]:
    """Weakly labelled praise: training-half Review-Pulse reviews with no issue span, no cue and a
    confidently positive offline sentiment (score > 0.5). Without app-review praise the model learned
    "an app review is a problem" from the issue spans."""
    rows = [json.loads(line) for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open()]
    texts = sorted(
        {
            r["text"].strip()
            for r in rows
            if review_pulse_half(r["reviewId"]) == "train"
            and not r["label"]
            and len(r["text"]) <= 300
            and text_cue(r["text"]) is None
        }
    )
    _, score = SentimentModel().fit().predict(embedder.encode(texts))
    keep = [t for t, s in zip(texts, score, strict=False) if s > 0.5]
    return rng.sample(keep, min(n, len(keep)))


def _dogo_turns() -> list[tuple[str, str]]:
    rows = []
    for path in sorted((DATA / "multidogo" / "turn_level").glob("*.tsv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += [
                (r["utterance"].strip(), r["intent"])
                for r in csv.DictReader(fh, delimiter="\t")
                if len(r["utterance"].split()) >= 2
            ]
    return rows


def training_set(rng: random.Random) -> list[tuple[str, str, str]]:
    """(text, type, corpus) rows, sampled with ``rng``."""
    rows: list[tuple[str, str, str]] = []

    def take(texts: list[str], label: str, corpus: str, n: int) -> None:
        texts = sorted(set(texts))
        rows.extend((t, label, corpus) for t in rng.sample(texts, min(n, len(texts))))

    take(review_pulse_spans("train"), "problem", "review_pulse_app_issues", 600)
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt"):
        uci = _uci(name)
        take([t for t, y in uci if y == "negative"], "problem", "uci_sentiment", 500)
        take([t for t, y in uci if y == "positive"], "praise", "uci_sentiment", 500)
    bundled = {cid for _, cid in _bundled_complaints()}
    with (DATA / "cfpb_complaints_sample" / "complaints_sample.csv").open(encoding="utf-8") as fh:
        cfpb = [
            s.text
            for r in csv.DictReader(fh)
            if r["Consumer complaint narrative"].strip() and r["Complaint ID"] not in bundled
            for s in segment_feedback("ticket", r["Consumer complaint narrative"])
        ]
    take(cfpb, "problem", "cfpb", 400)
    clinc = json.loads((DATA / "clinc150" / "data_full.json").read_text())["train"]
    take([t for t, y in clinc if y in CLINC_PROBLEMS], "problem", "clinc150", 300)
    take([t for t, y in clinc if y not in CLINC_PROBLEMS and QUESTION.match(t)], "question", "clinc150", 900)
    take([t for t, y in clinc if y not in CLINC_PROBLEMS and not QUESTION.match(t)], "other", "clinc150", 600)
    dogo = _dogo_turns()
    take([t for t, y in dogo if y in DOGO_OTHER and not QUESTION.match(t)], "other", "multidogo", 500)
    take([t for t, y in dogo if y in DOGO_PROBLEMS], "problem", "multidogo", 200)
    take([t for t, y in dogo if QUESTION.match(t) and y not in DOGO_PROBLEMS], "question", "multidogo", 150)
    for line in SEED_FILE.open(encoding="utf-8"):
        r = json.loads(line)
        rows.append((r["text"], r["label"], "seed"))
    return rows


def main() -> None:
    t0 = time.perf_counter()
    rng = random.Random(0)
    rows = training_set(rng)
    embedder = Embedder(DEFAULT_MODEL, progress=sys.stderr.isatty()).fit()  # int8: what a run embeds
    rows += [(t, "praise", "review_pulse_app_issues") for t in review_pulse_praise(embedder, 500, rng)]
    X = embedder.encode([t for t, _, _ in rows])
    y = np.array([TYPES.index(c) for _, c, _ in rows])
    w = np.array([SEED_WEIGHT if corpus == "seed" else 1.0 for _, _, corpus in rows])
    # balanced classes: requests are ~4% of the rows but must not be drowned by the corpora
    counts = np.bincount(y, weights=w, minlength=len(TYPES))
    w = w * (w.sum() / (len(TYPES) * counts[y]))
    clf = LogisticRegression(C=C, max_iter=3000).fit(X, y, sample_weight=w)
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        WEIGHTS,
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        classes=np.array(TYPES),
        model=np.array(DEFAULT_MODEL),
    )
    per = Counter((corpus, label) for _, label, corpus in rows)
    print(
        json.dumps(
            {
                "train_rows": len(rows),
                "seconds": round(time.perf_counter() - t0, 1),
                "rows_per_corpus_and_type": {f"{c}/{label}": n for (c, label), n in sorted(per.items())},
                "train_accuracy": round(float(clf.score(X, y)), 4),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
