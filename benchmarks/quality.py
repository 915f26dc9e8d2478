"""Clustering quality against true labels: painpoints vs BERTopic 0.17.4 (default settings, same
embedding model, same precomputed embeddings), in the same process run.

A feedback item's predicted theme is the theme of its first assigned segment (for a chat, the
opening complaint); items with no assigned segment count as one "unassigned" group, as BERTopic's
-1 outliers do. Embeddings are cached in ``$PAINPOINTS_BENCH_CACHE`` (default
``benchmarks/.cache``), so only the first run pays for encoding.

Each figure is the median of ``--repeats=3`` runs (painpoints seeds 0, 1, 2; BERTopic unseeded, as
shipped). Run: ``python -m benchmarks.quality [SET ...] [--no-bertopic] [--repeats=N] [--write]`` (sets: clinc150 abcd
multidogo review_pulse); ``--write`` also saves ``benchmarks/quality.json`` and prints the Markdown
table for ``RESULTS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.datasets import SETS
from discovery import store
from discovery.embed import Embedder, embed_missing, encode_cached
from discovery.ingest import ingest_paths
from discovery.pipeline import discover, prepare_segments
from discovery.sentiment import SentimentModel
from discovery.settings import load_settings

CACHE = Path(os.environ.get("PAINPOINTS_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))


def _scores(truth: list[str], pred: list[int]) -> dict[str, float]:
    return {"nmi": round(float(normalized_mutual_info_score(truth, pred)), 4),
            "ari": round(float(adjusted_rand_score(truth, pred)), 4),
            "unassigned": round(float(np.mean(np.array(pred) < 0)), 4),
            "themes": len({p for p in pred if p >= 0})}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    out = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    out["themes"] = int(out["themes"])
    out["runs"] = len(runs)
    out["nmi_all"] = [r["nmi"] for r in runs]
    out["ari_all"] = [r["ari"] for r in runs]
    return out


def run_set(name: str, embedder: Embedder, with_bertopic: bool = True, repeats: int = 3) -> dict:
    """Median over ``repeats`` runs: painpoints with seeds 0..repeats-1, BERTopic as shipped (its UMAP
    is unseeded, so every run differs)."""
    path, kind, labels = SETS[name](CACHE)
    db = CACHE / f"{name}.duckdb"
    ingest_paths(db, [path], name, kind)
    con = store.connect(db)
    try:
        prepare_segments(con, load_settings(db=db))
        t0 = time.perf_counter()
        embed_missing(con, embedder)
        embed_s = time.perf_counter() - t0
        index = store.feedback_index(con)
        truth = [labels[ext] for _, ext, _ in index]
        ours = []
        for seed in range(repeats):
            t0 = time.perf_counter()
            result = discover(con, load_settings(db=db, seed=seed), embedder, SentimentModel())
            seconds = time.perf_counter() - t0
            ours.append({**_scores(truth, _primary_theme(result.assignments, index)), "seconds": seconds})
        out = {"set": name, "items": len(index), "true_labels": len(set(truth)), "painpoints": _median(ours),
               "segments": result.stats["segments"], "embed_seconds_uncached": round(embed_s, 1)}
        if with_bertopic:
            from bertopic import BERTopic

            docs = [text for _, _, text in index]
            vectors = encode_cached(con, embedder, docs)
            theirs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                topics, _ = BERTopic(embedding_model=embedder.model_).fit_transform(docs, embeddings=vectors)
                theirs.append({**_scores(truth, list(topics)), "seconds": time.perf_counter() - t0})
            out["bertopic"] = _median(theirs)
    finally:
        con.close()
    return out


def _primary_theme(assignments: list[dict], index: list[tuple[str, str, str]]) -> list[int]:
    """Per feedback item, the theme of its first assigned segment (-1 if none)."""
    theme_of = {a["segment_id"]: a["theme_id"] for a in assignments}
    first: dict[str, int] = {}
    for sid in sorted(theme_of):
        fid = sid.rsplit(":", 1)[0]
        if fid not in first and theme_of[sid] is not None:
            first[fid] = int(theme_of[sid][1:])
    return [first.get(fid, -1) for fid, _, _ in index]


def main(argv: list[str]) -> None:
    names = [a for a in argv if not a.startswith("-")] or list(SETS)
    unknown = set(names) - set(SETS)
    if unknown:
        raise SystemExit(f"unknown set(s) {sorted(unknown)}; choose from {list(SETS)}")
    repeats = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--repeats=")), 3))
    CACHE.mkdir(parents=True, exist_ok=True)
    embedder = Embedder(progress=sys.stderr.isatty()).fit()
    results = []
    for name in names:
        r = run_set(name, embedder, with_bertopic="--no-bertopic" not in argv, repeats=repeats)
        results.append(r)
        print(json.dumps(r), flush=True)
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
              "command": "python -m benchmarks.quality " + " ".join(argv), "results": results}
    (CACHE / "quality.json").write_text(json.dumps(report, indent=2))
    if "--write" in argv:
        (Path(__file__).resolve().parent / "quality.json").write_text(json.dumps(report, indent=2) + "\n")
        print(markdown(report))


def markdown(report: dict) -> str:
    """The table for RESULTS.md."""
    lines = [f"Run {report['date']} on {report['machine']}: `{report['command'].strip()}`", "",
             "| set | items | true labels | painpoints NMI | BERTopic NMI | painpoints ARI | BERTopic ARI | "
             "painpoints unassigned | BERTopic unassigned | painpoints themes | BERTopic themes |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines[0] += " — medians of 3 runs each (painpoints seeds 0–2; BERTopic unseeded as shipped)"
    for r in report["results"]:
        p, b = r["painpoints"], r.get("bertopic", {})
        lines.append(f"| {r['set']} | {r['items']} | {r['true_labels']} | **{p['nmi']:.3f}** | {b.get('nmi', float('nan')):.3f} | "
                     f"**{p['ari']:.3f}** | {b.get('ari', float('nan')):.3f} | {p['unassigned']:.1%} | "
                     f"{b.get('unassigned', float('nan')):.1%} | {p['themes']} | {b.get('themes', '')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
