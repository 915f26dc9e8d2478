"""Incremental discovery: time of a rerun with 1% new items against a full run, and theme stability.

Data: CLINC150 utterances (all splits, in-scope; ``--items`` of them, shuffled with a fixed seed),
99% ingested first, 1% added afterwards. Steps, all in this process and measured with the same
library calls the Prefect flow makes (prepare → embed → discover → write; Prefect's own ~1–2 s per
flow is left out):

1. **full (cold)**: first run on the 99%: segments, embeddings and clustering from scratch.
2. **incremental**: the 1% added, then a normal run (it chooses incremental mode).
3. **full recluster**: the same 100% with ``full=True`` (embeddings cached), for comparison.

Steps 2 and 3 are repeated ``--repeats`` times on fresh copies of the database after step 1 and
reported as medians; step 1 runs once (it is the expensive one). Stability is ``same_theme_share``:
of the segments assigned in the previous run, the share that keeps its theme id.

Run: ``python -m benchmarks.incremental [--items=20000] [--repeats=3] [--write]``; ``--write`` saves
``benchmarks/incremental.json``.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sklearn.metrics import normalized_mutual_info_score

from benchmarks.common import emit, header, options
from benchmarks.datasets import DATA, _write_jsonl
from painpoints.discovery import runstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.ingest import ingest_paths
from painpoints.discovery.pipeline import discover, prepare_segments
from painpoints.discovery.records import RunStats
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings

OUT = Path(__file__).resolve().parent / "incremental.json"


def clinc_all(n: int, seed: int = 0) -> list[dict]:
    data = json.loads((DATA / "clinc150" / "data_full.json").read_text())
    rows = [
        {"id": f"{split}-{i}", "text": t, "label": y}
        for split in ("train", "val", "test")
        for i, (t, y) in enumerate(data[split])
    ]
    random.Random(seed).shuffle(rows)
    return rows[:n]


def run_once(db: Path, embedder: Embedder, full: bool = False) -> tuple[float, RunStats]:
    """One discovery run as the flow does it, timed end to end; returns (seconds, stats)."""
    settings = load_settings(db=db, full_every_days=0)
    t0 = time.perf_counter()
    con = store.connect(db)
    try:
        prepare_segments(con, settings)
        embed_missing(con, embedder)
        run_id = runstore.start_run(con, {"benchmark": True})
        result = discover(con, settings, embedder, SentimentModel(), full=full, run_id=run_id)
        runstore.finish_run(con, run_id, result)
    finally:
        con.close()
    return time.perf_counter() - t0, result.stats


def nmi(db: Path, labels: dict[str, str]) -> float:
    con = store.connect(db, read_only=True)
    try:
        rows = con.execute("SELECT external_id, coalesce(theme_id, '-') FROM feedback_themes").fetchall()
    finally:
        con.close()
    return round(float(normalized_mutual_info_score([labels[e] for e, _ in rows], [t for _, t in rows])), 4)


def main(argv: list[str]) -> dict:
    opts = options(argv)
    n, repeats = int(opts.get("items", 20_000)), int(opts.get("repeats", 3))
    rows = clinc_all(n)
    labels = {r["id"]: r["label"] for r in rows}
    cut = len(rows) - max(1, len(rows) // 100)
    work = Path(tempfile.mkdtemp(prefix="pp-incr-"))
    try:
        base, new = _write_jsonl(rows[:cut], work / "base.jsonl"), _write_jsonl(rows[cut:], work / "new.jsonl")
        embedder = Embedder(progress=False).fit()
        db0 = work / "base.duckdb"
        ingest_paths(load_settings(db=db0), [base], "clinc", "review")
        cold_s, cold = run_once(db0, embedder)
        print(f"full (cold) on {cut} items: {cold_s:.1f} s, {cold.themes} themes", flush=True)
        incr, recl = [], []
        for r in range(repeats):
            db = work / f"r{r}.duckdb"
            shutil.copy(db0, db)
            ingest_paths(load_settings(db=db), [new], "clinc", "review")
            s, st = run_once(db, embedder)
            incr.append(
                {
                    "seconds": s,
                    "mode": st.mode,
                    "same": st.same_theme_share,
                    "nmi": nmi(db, labels),
                    "new_themes": st.themes_new,
                }
            )
            s, st = run_once(db, embedder, full=True)
            recl.append({"seconds": s, "same": st.same_theme_share, "nmi": nmi(db, labels)})
            print(f"repeat {r}: incremental {incr[-1]}, full recluster {recl[-1]}", flush=True)
        med = {k: statistics.median(x[k] for x in incr) for k in ("seconds", "same", "nmi")}
        med_r = {k: statistics.median(x[k] for x in recl) for k in ("seconds", "same", "nmi")}
        report = {
            **header("benchmarks.incremental", argv),
            "items": len(rows),
            "new_items": len(rows) - cut,
            "repeats": repeats,
            "full_cold_seconds": round(cold_s, 1),
            "full_cold_nmi": nmi(db0, labels),
            "incremental_seconds": round(med["seconds"], 1),
            "incremental_same_theme_share": med["same"],
            "incremental_nmi": med["nmi"],
            "incremental_modes": [x["mode"] for x in incr],
            "full_recluster_seconds": round(med_r["seconds"], 1),
            "full_recluster_same_theme_share": med_r["same"],
            "full_recluster_nmi": med_r["nmi"],
            "ratio_incremental_vs_full_cold": round(med["seconds"] / cold_s, 3),
            "ratio_incremental_vs_full_recluster": round(med["seconds"] / med_r["seconds"], 3),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
