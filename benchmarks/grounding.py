"""Does the grounding score tell a fitting theme label from a wrong one?

On labelled sets, each theme gets two candidate labels: the name of its majority true label (a good
label, e.g. "card declined") and the name of another theme's majority label (a bad label, as a
hallucinating LLM might produce). Grounding (``discovery.naming.grounding``) should be positive
for the first and negative for the second. Also reported: the grounding of painpoints' own offline
labels. Run: ``python -m benchmarks.grounding [SET ...] [--write]`` (after ``python -m
benchmarks.quality`` has filled the cache; sets default to clinc150 abcd multidogo); ``--write`` saves
``benchmarks/grounding.json`` for the table in RESULTS.md.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.common import emit, header, options
from benchmarks.datasets import SETS
from benchmarks.quality import CACHE
from painpoints.discovery import runinput, runstore, segmentstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.naming import grounding
from painpoints.discovery.pipeline import discover
from painpoints.discovery.records import assignment_rows
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings

THRESHOLDS = (0.0, -0.1, -0.2)


def run_set(name: str, embedder: Embedder) -> dict:
    _, _, labels = SETS[name](CACHE)
    db = CACHE / f"{name}.duckdb"
    con = store.connect(db)
    try:
        settings = load_settings(db=db)
        result = discover(con, settings, embedder, SentimentModel())
        runstore.cache_embeddings(con, result.embeddings)
        ext = {fid: e for fid, e, _ in segmentstore.feedback_index(con)}
        data = runinput.load_run_input(con, settings.embed_key)  # the vectors the run used (int8 by default)
    finally:
        con.close()
    theme_of = {a.segment_id: a.theme_id for a in assignment_rows(result.assignments)}
    ids = sorted({t.theme_id for t in result.themes})
    index = {tid: i for i, tid in enumerate(ids)}
    centroids = np.zeros((len(ids), data.vectors.shape[1]), np.float32)
    majority: dict[int, str] = {}
    for tid in ids:
        members = [i for i, sid in enumerate(data.segment_id) if theme_of[sid] == tid]
        c = data.vectors[members].mean(axis=0)
        centroids[index[tid]] = c / np.linalg.norm(c)
        majority[index[tid]] = Counter(labels[ext[data.feedback_id[i]]] for i in members).most_common(1)[0][0]
    themes = list(range(len(ids)))
    rng = random.Random(0)
    wrong = [rng.choice([majority[o] for o in themes if majority[o] != majority[t]]) for t in themes]
    readable = lambda s: s.replace("_", " ").replace("/", " ")  # noqa: E731
    good = grounding(embedder.encode([readable(majority[t]) for t in themes]), centroids, themes)
    bad = grounding(embedder.encode([readable(w) for w in wrong]), centroids, themes)
    own = {t.theme_id: f"{t.label}. {t.description}" for t in result.themes}
    ours = grounding(embedder.encode([own[tid] for tid in ids]), centroids, themes)
    return {
        "set": name,
        "themes": len(themes),
        "good_label_grounding_median": round(float(np.median(good)), 3),
        "bad_label_grounding_median": round(float(np.median(bad)), 3),
        **{f"good_kept_at_{t}": round(float((good >= t).mean()), 3) for t in THRESHOLDS},
        **{f"bad_rejected_at_{t}": round(float((bad < t).mean()), 3) for t in THRESHOLDS},
        "auc_good_vs_bad": round(
            float(roc_auc_score([1] * len(good) + [0] * len(bad), np.concatenate([good, bad]))), 3
        ),
        "offline_labels_kept_at_-0.1": round(float((ours >= -0.1).mean()), 3),
    }


def main(argv: list[str]) -> None:
    opts = options([a for a in argv if a.startswith("--")])
    names = [a for a in argv if not a.startswith("--")] or ["clinc150", "abcd", "multidogo"]
    embedder = Embedder(progress=False).fit()
    report = {
        **header("benchmarks.grounding", argv),
        "thresholds": list(THRESHOLDS),
        "results": [run_set(name, embedder) for name in names],
    }
    emit(report, Path(__file__).resolve().parent / "grounding.json", "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
