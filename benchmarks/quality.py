"""Clustering quality against true labels: painpoints vs BERTopic 0.17.4 (default settings, same
embedding model, same precomputed embeddings), in the same process run.

A feedback item's predicted theme is the theme of its first assigned segment (for a chat, the
opening complaint); items with no assigned segment count as one "unassigned" group, as BERTopic's
-1 outliers do. Each tool gets its own embeddings of the same model: painpoints its default int8
vectors, BERTopic the plain fp32 ``SentenceTransformer.encode`` vectors it computes by default.

Label quality: for every theme, the cosine similarity between its label (painpoints: the offline
name; BERTopic: its top four c-TF-IDF words, which is what its ``Name`` shows) and the name of the
theme's majority true label (underscores and slashes read as spaces), embedded with the fp32 model;
mean over themes. Embeddings are cached in ``$PAINPOINTS_BENCH_CACHE`` (default
``benchmarks/.cache``), so only the first run pays for encoding.

Each figure is the median of ``--repeats=3`` runs (painpoints seeds 0, 1, 2; BERTopic unseeded, as
shipped). Run: ``python -m benchmarks.quality [SET ...] [--no-bertopic] [--repeats=N] [--write]`` (sets: clinc150 abcd
multidogo review_pulse cfpb); ``--write`` also saves ``benchmarks/quality.json`` and prints the Markdown
table for ``RESULTS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.datasets import SETS
from painpoints.discovery import runstore, segmentstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import embed_missing, encode_cached
from painpoints.discovery.ingest import ingest_paths
from painpoints.discovery.pipeline import discover, prepare_segments
from painpoints.discovery.records import Assignment, assignment_rows
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings

CACHE = Path(os.environ.get("PAINPOINTS_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))


def _scores(truth: list[str], pred: list[int], labels: dict[int, str], fp32: Embedder) -> dict[str, float]:
    return {
        "nmi": round(float(normalized_mutual_info_score(truth, pred)), 4),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "unassigned": round(float(np.mean(np.array(pred) < 0)), 4),
        "themes": len({p for p in pred if p >= 0}),
        "label_quality": label_quality(truth, pred, labels, fp32),
    }


def _readable(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("/", " ").split())


def label_quality(truth: list[str], pred: list[int], labels: dict[int, str], fp32: Embedder) -> float:
    """Mean over themes of cos(theme label, name of the theme's majority true label)."""
    majority = {}
    for theme in {p for p in pred if p >= 0}:
        members = Counter(t for t, p in zip(truth, pred, strict=True) if p == theme)
        majority[theme] = _readable(members.most_common(1)[0][0])
    themes = [t for t in majority if labels.get(t)]
    if not themes:
        return float("nan")
    a = fp32.encode([labels[t] for t in themes])
    b = fp32.encode([majority[t] for t in themes])
    return round(float((a * b).sum(axis=1).mean()), 4)


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    out = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    out["themes"] = int(out["themes"])
    out["runs"] = len(runs)
    out["nmi_all"] = [r["nmi"] for r in runs]
    out["ari_all"] = [r["ari"] for r in runs]
    return out


def prepared_set(
    name: str, embedder: Embedder | None = None
) -> tuple[duckdb.DuckDBPyConnection, list[tuple[str, str, str]], list[str]]:
    """The set's cached database, ingested, segmented and embedded (only what is missing is
    computed): an open connection, ``(feedback_id, external_id, text)`` per item and its true label."""
    path, kind, labels = SETS[name](CACHE)
    db = CACHE / f"{name}.duckdb"
    ingest_paths(load_settings(db=db), [path], name, kind)
    con = store.connect(db)
    try:
        prepare_segments(con, load_settings(db=db))
        embed_missing(con, embedder or Embedder(progress=False).fit())
        index = segmentstore.feedback_index(con)
    except BaseException:
        con.close()
        raise
    return con, index, [labels[ext] for _, ext, _ in index]


def run_set(name: str, embedder: Embedder, fp32: Embedder, with_bertopic: bool = True, repeats: int = 3) -> dict:
    """Median over ``repeats`` runs: painpoints with seeds 0..repeats-1, BERTopic as shipped (its UMAP
    is unseeded, so every run differs)."""
    t0 = time.perf_counter()
    con, index, truth = prepared_set(name, embedder)
    embed_s = time.perf_counter() - t0
    db = CACHE / f"{name}.duckdb"
    try:
        ours = []
        for seed in range(repeats):
            t0 = time.perf_counter()
            result = discover(con, load_settings(db=db, seed=seed), embedder, SentimentModel())
            runstore.cache_embeddings(con, result.embeddings)  # label phrases: later repeats find them cached
            seconds = time.perf_counter() - t0
            labels = {int(t.theme_id[1:]): t.label for t in result.themes}
            ours.append(
                {
                    **_scores(truth, _primary_theme(assignment_rows(result.assignments), index), labels, fp32),
                    "seconds": seconds,
                }
            )
        out = {
            "set": name,
            "items": len(index),
            "true_labels": len(set(truth)),
            "painpoints": _median(ours),
            "segments": result.stats.segments,
            "prepare_seconds": round(embed_s, 1),
        }  # ingest, segment, embed (cached: ~0)
        if with_bertopic:
            from bertopic import BERTopic

            docs = [text for _, _, text in index]
            vectors = encode_cached(con, fp32, docs)  # what BERTopic computes itself: plain fp32 encode
            theirs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                model = BERTopic(embedding_model=fp32.model_)
                topics, _ = model.fit_transform(docs, embeddings=vectors)
                seconds = time.perf_counter() - t0
                names = {t: " ".join(w for w, _ in (model.get_topic(t) or [])[:4]) for t in set(topics) if t >= 0}
                theirs.append({**_scores(truth, list(topics), names, fp32), "seconds": seconds})
            out["bertopic"] = _median(theirs)
    finally:
        con.close()
    return out


def _primary_theme(assignments: list[Assignment], index: list[tuple[str, str, str]]) -> list[int]:
    """Per feedback item, the theme of its first assigned segment (-1 if none)."""
    theme_of = {a.segment_id: a.theme_id for a in assignments}
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
    fp32 = Embedder(progress=False, precision="fp32").fit()
    results = []
    for name in names:
        r = run_set(name, embedder, fp32, with_bertopic="--no-bertopic" not in argv, repeats=repeats)
        results.append(r)
        print(json.dumps(r), flush=True)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "command": "python -m benchmarks.quality " + " ".join(argv),
        "results": results,
    }
    (CACHE / "quality.json").write_text(json.dumps(report, indent=2))
    if "--write" in argv:
        (Path(__file__).resolve().parent / "quality.json").write_text(json.dumps(report, indent=2) + "\n")
        print(markdown(report))


def markdown(report: dict) -> str:
    """The tables for RESULTS.md: figures, then each target (NMI ≥ BERTopic + 0.03, ARI ≥ BERTopic +
    0.10, unassigned ≤ 10%) as met or not."""
    nan = float("nan")
    lines = [
        f"Run {report['date']} on {report['machine']}: `{report['command'].strip()}` — medians of "
        f"{report['results'][0]['painpoints']['runs']} runs each "
        "(painpoints seeds 0, 1, …; BERTopic unseeded as shipped)",
        "",
        "| set | items | true labels | NMI pp / BT | ARI pp / BT | unassigned pp / BT | themes pp / BT "
        "| label quality pp / BT |",
        "|---|---|---|---|---|---|---|---|",
    ]
    targets = ["", "| set | NMI margin (≥ +0.03) | ARI margin (≥ +0.10) | unassigned (≤ 10%) |", "|---|---|---|---|"]
    for r in report["results"]:
        p, b = r["painpoints"], r.get("bertopic", {})
        lines.append(
            f"| {r['set']} | {r['items']} | {r['true_labels']} | **{p['nmi']:.3f}** / {b.get('nmi', nan):.3f} | "
            f"**{p['ari']:.3f}** / {b.get('ari', nan):.3f} | {p['unassigned']:.1%} / {b.get('unassigned', nan):.1%} | "
            f"{p['themes']} / {b.get('themes', '')} | "
            f"{p.get('label_quality', nan):.3f} / {b.get('label_quality', nan):.3f} |"
        )
        dn, da = p["nmi"] - b.get("nmi", nan), p["ari"] - b.get("ari", nan)
        targets.append(
            f"| {r['set']} | {dn:+.3f} {'met' if dn >= 0.03 else 'not met'} | "
            f"{da:+.3f} {'met' if da >= 0.10 else 'not met'} | "
            f"{p['unassigned']:.1%} {'met' if p['unassigned'] <= 0.10 else 'not met'} |"
        )
    return "\n".join(lines + targets)


if __name__ == "__main__":
    main(sys.argv[1:])
