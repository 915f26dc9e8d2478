"""Reference points for the quality targets: how far can any clustering of these vectors go?

For each labelled set of ``benchmarks.quality``, on painpoints' own vectors (int8, each item's first
segment, as the quality benchmark scores items):

- **k-means, true k**: scikit-learn k-means told the true number of labels (which no real run knows);
  median over seeds 0, 1, 2. An unsupervised method handed the answer's size.
- **nearest true centroid**: every item goes to the label whose mean vector (computed from all items
  and their true labels) is nearest by cosine. It uses the labels, so no unsupervised method is
  expected to reach it; it shows how well the embedding model separates the labels at all.

Both are printed next to the target the issue sets (BERTopic + 0.03 NMI, + 0.10 ARI, from the last
``benchmarks/quality.json``), so a target above what the model's vectors support is visible as such.
Run: ``python -m benchmarks.ceiling [--write]`` (after ``benchmarks.quality``, whose cached
databases it reads; a missing one is built the same way).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.common import emit, header, options
from benchmarks.datasets import SETS
from benchmarks.quality import CACHE, prepared_set

OUT = Path(__file__).resolve().parent / "ceiling.json"


def item_vectors(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per feedback item (in feedback order): its first segment's int8 vector and its true label index."""
    from painpoints.discovery import runinput
    from painpoints.discovery.settings import load_settings

    con, index, truth = prepared_set(name)
    try:
        data = runinput.load_run_input(con, load_settings(db=CACHE / f"{name}.duckdb").embed_key)
    finally:
        con.close()
    first: dict[str, int] = {}
    for i, fid in enumerate(data.feedback_id):  # rows are in segment_id order: first hit = first segment
        first.setdefault(fid, i)
    keep = [k for k, (fid, _, _) in enumerate(index) if fid in first]
    vectors = data.vectors[[first[index[k][0]] for k in keep]]
    classes = {label: i for i, label in enumerate(sorted(set(truth)))}
    return vectors, np.array([classes[truth[k]] for k in keep])


def references(X: np.ndarray, y: np.ndarray, seeds: int = 3) -> dict[str, dict[str, float]]:
    k = int(y.max()) + 1
    runs = [KMeans(k, n_init=3, random_state=s).fit_predict(X) for s in range(seeds)]
    centroids = np.stack([X[y == c].mean(axis=0) for c in range(k)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    nearest = (X @ centroids.T).argmax(axis=1)

    def score(pred: np.ndarray) -> dict[str, float]:
        return {
            "nmi": round(float(normalized_mutual_info_score(y, pred)), 4),
            "ari": round(float(adjusted_rand_score(y, pred)), 4),
        }

    kmeans = [score(p) for p in runs]
    return {
        "kmeans_true_k": {m: float(np.median([r[m] for r in kmeans])) for m in ("nmi", "ari")},
        "nearest_true_centroid": score(nearest),
    }


def main(argv: list[str]) -> dict:
    opts = options(argv)
    quality = json.loads((OUT.parent / "quality.json").read_text()) if (OUT.parent / "quality.json").exists() else {}
    measured = {r["set"]: r for r in quality.get("results", [])}
    results = []
    for name in SETS:
        X, y = item_vectors(name)
        entry = {"set": name, "items": len(y), "true_labels": int(y.max()) + 1, **references(X, y)}
        if name in measured and "bertopic" in measured[name]:
            p, b = measured[name]["painpoints"], measured[name]["bertopic"]
            entry["painpoints"] = {"nmi": p["nmi"], "ari": p["ari"]}
            entry["target"] = {"nmi": round(b["nmi"] + 0.03, 4), "ari": round(b["ari"] + 0.10, 4)}
        results.append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    return emit({**header("benchmarks.ceiling", argv), "results": results}, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
