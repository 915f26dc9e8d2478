"""Search latency (issue 19): ``painpoints search`` time per query at 10k and 1M stored segments.

A synthetic store per size is built in SQL (items, segments, one vector each, one successful run that
assigns every segment to one of 50 themes, so the theme join is paid as in a real store). The vectors
are random — the exact scan costs the same whatever they hold — under the key of the real int8
embedder, which embeds each query as ``Workspace.search`` does. Per size: one warm-up query, then
``--queries`` timed ones; p50 / p95 of the whole call (embed the query + scan in DuckDB) and of the
scan alone.

Run: ``python -m benchmarks.search [--sizes=10000,1000000] [--queries=20] [--write]`` (about 4 minutes
on 2 cores, most of it building the 1M store; ~2 GB of temporary disk).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, header, options

OUT = Path(__file__).resolve().parent / "search.json"
QUERIES = [
    "money back for my order",
    "the app crashes when I log in",
    "please add a dark mode",
    "delivery took three weeks",
    "charged twice on my card",
    "cannot reset my password",
    "the dress runs small",
    "rude agent at the counter",
    "export to csv fails",
    "love the new design",
]


def build(db: Path, n: int, key: str, dim: int) -> float:
    """A store of ``n`` segments with random vectors under ``key``; returns seconds."""
    from painpoints.discovery import store

    t0 = time.perf_counter()
    with store.connect(db) as con:
        con.execute(
            "INSERT INTO feedback (feedback_id, source, kind, external_id, text, content_hash) "
            "SELECT 'f' || i, 'src' || (i % 3), 'review', 'e' || i, 'item ' || i, 'h' || i FROM range(?) t(i)",
            [n],
        )
        con.execute(
            "INSERT INTO segments (segment_id, feedback_id, segment, text, content_hash) "
            "SELECT 'f' || i || ':0', 'f' || i, 0, 'segment text number ' || i || ' about order ' || (i % 97), "
            "'h' || i FROM range(?) t(i)",
            [n],
        )
        con.execute(
            f"INSERT INTO embeddings (content_hash, model, vector) "
            f"SELECT 'h' || i, ?, list_transform(range({dim}), lambda x: (random() - 0.5)::FLOAT) FROM range(?) t(i)",
            [key, n],
        )
        con.execute(
            "INSERT INTO runs (run_id, started_at, finished_at, status) "
            "VALUES ('r1', current_timestamp, current_timestamp, 'success')"
        )
        con.execute(
            "INSERT INTO current_assignments (run_id, segment_id, theme_id, how, sentiment, sentiment_score) "
            "SELECT 'r1', 'f' || i || ':0', 'T' || lpad((i % 50)::VARCHAR, 3, '0'), 'cluster', 'neutral', 0 "
            "FROM range(?) t(i)",
            [n],
        )
        con.execute("CHECKPOINT")
    return time.perf_counter() - t0


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def measure(db: Path, encoder: Any, queries: int) -> dict[str, Any]:
    from painpoints.discovery import store
    from painpoints.discovery.search import search

    total, scan = [], []
    with store.connect(db, read_only=True) as con:
        search(con, encoder, "warm up", limit=10)
        for i in range(queries):
            q = QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES) else f" {i}")
            t0 = time.perf_counter()
            vec = encoder.encode([q])
            t1 = time.perf_counter()
            hits = search(con, _Fixed(encoder.key, vec), q, limit=10)
            t2 = time.perf_counter()
            assert len(hits) == 10
            total.append(t2 - t0)
            scan.append(t2 - t1)
    return {
        "queries": queries,
        "p50_ms": round(1000 * statistics.median(total), 1),
        "p95_ms": round(1000 * _pct(total, 0.95), 1),
        "scan_p50_ms": round(1000 * statistics.median(scan), 1),
        "scan_p95_ms": round(1000 * _pct(scan, 0.95), 1),
    }


class _Fixed:
    """An encoder returning a vector computed beforehand (so the scan is timed apart from embedding)."""

    def __init__(self, key: str, vector: Any) -> None:
        self.key, self.vector = key, vector

    def encode(self, texts: list[str]) -> Any:
        return self.vector


def main(argv: list[str]) -> dict[str, Any]:
    from painpoints.discovery.embed import Embedder
    from painpoints.discovery.settings import load_settings

    opts = options(argv)
    sizes = [int(x) for x in opts.get("sizes", "10000,1000000").split(",")]
    queries = int(opts.get("queries", 20))
    s = load_settings()
    encoder = Embedder(model=s.embed_model, batch_size=s.embed_batch_size, precision=s.embed_precision).fit()
    dim = int(encoder.encode(["x"]).shape[1])
    results = []
    with tempfile.TemporaryDirectory(prefix="pp-search-") as tmp:
        for n in sizes:
            db = Path(tmp) / f"search-{n}.duckdb"
            seconds = build(db, n, encoder.key, dim)
            r = {"segments": n, "build_seconds": round(seconds, 1), **measure(db, encoder, queries)}
            r["db_mb"] = round(db.stat().st_size / 1e6)
            print(r, file=sys.stderr, flush=True)
            results.append(r)
            db.unlink()
    report = {
        **header("benchmarks.search", argv),
        "method": "exact cosine scan in DuckDB over every stored segment (+ keyword bonus), theme join "
        "included; query embedded by the int8 embedder; random stored vectors; top 10",
        "results": results,
    }
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
