"""Scale: wall time per stage and peak RSS for 100k and 1M feedback items on this machine.

How the items are built (``build``), from the sets in ``../shared/data``: every distinct real text of
CLINC150 (all splits), Women's Clothing reviews, IT service tickets, CFPB narratives, MultiDoGO
customer sides, Review-Pulse reviews and the UCI sentences, cut at 300 characters on a word boundary
and shuffled (seed 0) — about 105k texts. The first ``n`` of them are the items; past the pool, each
further item joins two random pool texts cut at 100 characters ("the app logs me out. also the size
runs small"), skipping repeats, so every item is distinct and must be embedded.

The run happens in a child process (so this one's memory does not count) with the library calls the
Prefect flow makes, timed per stage: ingest (one JSONL file) → prepare (segment, redact) → embed
(int8, written to DuckDB in chunks of 2,048) → discover (UMAP + HDBSCAN fitted on a 50k sample, the
rest assigned to the nearest centroid; naming, sentiment, ranking) → write. Peak RSS is
``ru_maxrss`` of the child after each stage (a running maximum).

``--embedder=hash`` swaps the model for a hashed bag of words (``HashedWords``: time and memory of
everything but embedding at sizes the model would take days to embed here) and
``--vectors-in-memory=N`` sets the run's ``vectors_in_memory`` (full runs above it read vectors in blocks).

``--rerun=P`` then runs the nightly path on the same store, in a process of its own: P% new items
ingested, prepared, embedded and discovered (an incremental run), with its own stages and peak RSS.
``--db-memory-limit=X`` sets the run's ``db_memory_limit`` (default the setting's, 1 GB); the report
gives each stage's commit rate, rows written per second (items, segments, vectors, assignments).

Run: ``python -m benchmarks.scale [--items=100000] [--embedder=hash] [--vectors-in-memory=N] [--rerun=1]
[--db-memory-limit=1GB] [--write]``;
the 1M run (``--items=1000000``)
is kept out of ``make test`` and the quick ``make bench``; ``--write`` merges the result for that
size into ``benchmarks/scale.json``.
"""

from __future__ import annotations

import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import header, options
from benchmarks.datasets import DATA

OUT = Path(__file__).resolve().parent / "scale.json"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def pool() -> list[str]:
    texts: list[str] = []
    clinc = json.loads((DATA / "clinc150" / "data_full.json").read_text())
    texts += [t for split in clinc.values() for t, _ in split]
    for folder, name, column in (
        ("womens_clothing_reviews", "Womens Clothing E-Commerce Reviews.csv", "Review Text"),
        ("it_service_tickets", "all_tickets_processed_improved_v3.csv", "Document"),
        ("cfpb_complaints_sample", "complaints_sample.csv", "Consumer complaint narrative"),
        ("multidogo", "multidogo_conversations_dev_test.csv", "customer_text"),
    ):
        with (DATA / folder / name).open(newline="", encoding="utf-8") as fh:
            texts += [r[column] for r in csv.DictReader(fh)]
    texts += [json.loads(line)["text"] for line in (DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl").open()]
    for f in sorted((DATA / "uci_sentiment_labelled_sentences").glob("*_labelled.txt")):
        texts += [line.rsplit("\t", 1)[0] for line in f.open(encoding="utf-8")]
    seen: set[str] = set()
    out = [t for t in (_cut(x, 300) for x in texts) if len(t.split()) >= 3 and not (t in seen or seen.add(t))]
    random.Random(0).shuffle(out)
    return out


def build(n: int, path: Path) -> int:
    """Write ``n`` distinct items as JSONL; returns how many are joined pairs (not single real texts)."""
    texts = pool()
    seen = set(texts[:n])
    rng = random.Random(1)
    short = [_cut(t, 100) for t in texts]
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(texts[:n]):
            fh.write(json.dumps({"id": f"r{i}", "text": t}) + "\n")
        made = 0
        while len(seen) < n:
            t = f"{rng.choice(short)} also {rng.choice(short)}"
            if t not in seen:
                seen.add(t)
                fh.write(json.dumps({"id": f"p{made}", "text": t}) + "\n")
                made += 1
    return made


class HashedWords:
    """The stand-in embedder of ``--embedder=hash`` (issue 18's 10M benchmark allows one): each word
    hashed into the model's 384 dimensions with a sign (scikit-learn's ``HashingVectorizer``),
    L2-normalised. Texts sharing words land close, so clustering finds structure, at ~50k texts/s on
    one core instead of ~300. It stores its vectors under the real model's cache key, so the run reads
    them as the model's: a benchmark database only, for time and memory, never for quality."""

    def __init__(self, key: str) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._key = key
        self.vectorizer = HashingVectorizer(n_features=384, alternate_sign=True, norm="l2")

    @property
    def key(self) -> str:
        return self._key

    def encode(self, texts: list[str]) -> np.ndarray:
        out = self.vectorizer.transform(texts).toarray().astype(np.float32)
        out[np.linalg.norm(out, axis=1) == 0, 0] = 1.0  # a text of no words: a unit vector all the same
        return out


def child(
    path: Path, db: Path, embedder_kind: str = "model", vectors_in_memory: int | None = None, memory: str = "default"
) -> dict:
    """The measured run (in its own process); ``memory`` the db_memory_limit ("default": the setting's)."""
    from painpoints.discovery import runstore, store
    from painpoints.discovery.embed import Embedder
    from painpoints.discovery.embed_cache import embed_missing
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.pipeline import discover, prepare_segments
    from painpoints.discovery.sentiment import SentimentModel
    from painpoints.discovery.settings import load_settings

    stages: dict[str, dict[str, float]] = {}

    def mark(name: str, t0: float) -> None:
        stages[name] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        print(name, stages[name], file=sys.stderr, flush=True)

    overrides: dict = {} if vectors_in_memory is None else {"vectors_in_memory": vectors_in_memory}
    if memory != "default":
        overrides["db_memory_limit"] = memory
    settings = load_settings(db=db, **overrides)
    t0 = time.perf_counter()
    ingest_paths(settings, [path], "scale", "review")
    mark("ingest", t0)
    con = store.connect(db, memory_limit=settings.db_memory_limit)  # as the flow's connections
    try:
        t0 = time.perf_counter()
        segments = prepare_segments(con, settings)
        mark("prepare", t0)
        t0 = time.perf_counter()
        embedder = HashedWords(settings.embed_key) if embedder_kind == "hash" else Embedder(progress=False).fit()
        embedded = embed_missing(con, embedder)
        mark("embed", t0)
        t0 = time.perf_counter()
        run_id = runstore.start_run(con, {"benchmark": "scale"})
        result = discover(con, settings, embedder, SentimentModel(), run_id=run_id)
        mark("discover", t0)
        t0 = time.perf_counter()
        runstore.finish_run(con, run_id, result)
        mark("write", t0)
    finally:
        con.close()
    s = result.stats
    return {
        "mode": s.mode,
        "segments": segments,
        "embedded": embedded,
        "themes": s.themes,
        "unassigned_share": s.unassigned_share,
        "discover_stage_seconds": s.seconds,
        "vectors_read": s.vectors_read,
        "stages": stages,
        "db_mb": round(db.stat().st_size / 1024**2),
    }


def _run_child(path: Path, db: Path, kind: str, budget: str, memory: str) -> dict:
    """One measured run in a process of its own (its peak RSS is its own)."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--child", str(path), str(db), kind, budget, memory],
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"scale run failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> dict:
    if argv[:1] == ["--child"]:
        kind, budget = argv[3], (int(argv[4]) if argv[4] != "default" else None)
        print(json.dumps(child(Path(argv[1]), Path(argv[2]), kind, budget, argv[5])))
        return {}
    opts = options(argv)
    n = int(opts.get("items", 100_000))
    kind = opts.get("embedder", "model")
    budget = opts.get("vectors-in-memory", "default")
    memory = opts.get("db-memory-limit", "default")
    more = round(n * float(opts.get("rerun", 0)) / 100)  # --rerun=1: then a nightly run with 1% new items
    work = Path(tempfile.mkdtemp(prefix="pp-scale-", dir=opts.get("dir")))
    try:
        path = work / "items.jsonl"
        t0 = time.perf_counter()
        pairs = build(n + more, path)  # the first n lines are build(n)'s: the rest is the rerun's new items
        if more:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.write_text("".join(lines[:n]), encoding="utf-8")
            (work / "more.jsonl").write_text("".join(lines[n:]), encoding="utf-8")
            pairs = sum(line.startswith('{"id": "p') for line in lines[:n])
            del lines
        print(f"built {n:,} items ({pairs:,} joined pairs) in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        result = _run_child(path, work / "s.duckdb", kind, budget, memory)
        total = time.perf_counter() - t0
        if more:  # an incremental run on top, in a process of its own: its peak is not the full run's
            t1 = time.perf_counter()
            again = _run_child(work / "more.jsonl", work / "s.duckdb", kind, budget, memory)
            again["new_items"], again["total_seconds"] = more, round(time.perf_counter() - t1, 1)
            again["peak_rss_mb"] = max(s["peak_rss_mb"] for s in again["stages"].values())
            result["rerun"] = again
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = max(s["peak_rss_mb"] for s in result["stages"].values())
    entry = {
        **header("benchmarks.scale", argv),
        "items": n,
        "embedder": kind,
        "vectors_in_memory": budget,
        **({} if memory == "default" else {"db_memory_limit": memory}),  # the report names a limit a run set
        "joined_pairs": pairs,
        "total_seconds": round(total, 1),
        "peak_rss_mb": peak,
        **result,
    }
    print(json.dumps(entry, indent=1))
    if "write" in opts:
        saved = json.loads(OUT.read_text()) if OUT.exists() else {}
        key = str(n) if kind == "model" and budget == "default" else f"{n}-{kind}-{budget}"
        saved[key if memory == "default" else f"{key}-{memory}"] = entry
        OUT.write_text(json.dumps(saved, indent=1) + "\n")
    return entry


if __name__ == "__main__":
    main(sys.argv[1:])
