"""One self-contained HTML page for stakeholders: ranked table, a card per theme (sentiment bar, weekly
sparkline, quotes, sources), a theme map and the run's metadata.

Self-contained means no CDN, font or script from elsewhere: the page must open on an offline laptop
and from an email attachment. Plots are inline SVG computed here. Every piece of text comes from
customers or PMs, so the template autoescapes everything (a review holding ``<script>`` shows as
text); only the SVG numbers are built in Python.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from discovery import store

MAP_SAMPLE = 1500
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"]


@dataclass
class MapPoint:
    x: float
    y: float
    theme_id: str


def theme_map(con: duckdb.DuckDBPyConnection, sample: int = MAP_SAMPLE, seed: int = 42) -> list[MapPoint]:
    """2-D UMAP of a seeded sample of the latest run's assigned segments (their embeddings), scaled to
    0..1; the same map the explore notebook draws."""
    rows = con.execute(
        "SELECT a.theme_id, e.vector FROM assignments a JOIN latest_run r USING (run_id) "
        "JOIN segments s USING (segment_id) JOIN embeddings e ON e.content_hash = s.content_hash "
        "AND e.model = r.stats->>'embed_model' WHERE a.theme_id IS NOT NULL ORDER BY a.segment_id").fetchall()
    if len(rows) < 5:
        return []
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(rows), size=min(sample, len(rows)), replace=False))
    X = np.asarray([rows[i][1] for i in keep], dtype=np.float32)
    from discovery.cluster import exact_knn

    import umap

    k = min(15, len(X) - 1)
    knn = exact_knn(X, k)
    reducer = umap.UMAP(n_neighbors=k, n_components=2, metric="cosine", random_state=seed, n_jobs=1, min_dist=0.1,
                        precomputed_knn=(knn[0], knn[1], None), init="random" if len(X) < 50 else "spectral")
    with warnings.catch_warnings():  # "no transform() without a search index": not needed here
        warnings.simplefilter("ignore")
        xy = reducer.fit_transform(X)
    xy = (xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9)
    return [MapPoint(float(a), float(b), rows[i][0]) for (a, b), i in zip(xy, keep)]


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    """SVG polyline points for ``values`` (numbers only: safe to place in the markup)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))


def collect(con: duckdb.DuckDBPyConnection, weeks: int = 12, with_map: bool = True) -> dict[str, Any]:
    """Everything the page shows, read from the public views of the latest successful run."""
    run = con.execute("SELECT run_id, started_at, finished_at, stats FROM latest_run").fetchone()
    if run is None:
        raise store.StoreError("no successful run yet: run `painpoints run` first")
    stats = json.loads(run[3] or "{}")
    cols, rows = store.query(con, "SELECT * FROM pain_points ORDER BY rank")
    themes = [dict(zip(cols, r)) for r in rows]
    sent = {}
    for tid, s, n in con.execute("SELECT theme_id, sentiment, count(*) FROM feedback_themes "
                                 "WHERE theme_id IS NOT NULL GROUP BY ALL").fetchall():
        sent.setdefault(tid, {})[s] = n
    last = con.execute("SELECT max(period_start) FROM theme_trends WHERE period = 'week'").fetchone()[0]
    weekly: dict[str, dict[Any, int]] = {}
    if last is not None:
        for tid, start, n in con.execute(
                "SELECT theme_id, period_start, items FROM theme_trends WHERE period = 'week' "
                "AND period_start > ?::DATE - INTERVAL (? * 7) DAY", [last, weeks]).fetchall():
            weekly.setdefault(tid, {})[start] = n
    starts = [last - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)] if last is not None else []
    shares = {}
    for tid, source, share in con.execute("SELECT theme_id, source, sum(share_of_theme) FROM theme_sources "
                                          "GROUP BY ALL ORDER BY 3 DESC").fetchall():
        shares.setdefault(tid, []).append((source, share))
    colour = {t["theme_id"]: PALETTE[i % len(PALETTE)] for i, t in enumerate(themes)}
    for t in themes:
        s = sent.get(t["theme_id"], {})
        total = sum(s.values()) or 1
        t["sentiment_split"] = [(k, s.get(k, 0) / total) for k in ("negative", "neutral", "positive")]
        series = [weekly.get(t["theme_id"], {}).get(d, 0) for d in starts]
        t["spark"] = sparkline(series) if any(series) else ""
        t["weekly"] = series
        t["source_shares"] = shares.get(t["theme_id"], [])
        t["colour"] = colour[t["theme_id"]]
    points = theme_map(con) if with_map else []
    visible = {t["theme_id"] for t in themes}
    return {"run": {"run_id": run[0], "started_at": run[1], "finished_at": run[2], **stats},
            "themes": themes, "weeks": [d.isoformat() for d in starts],
            "map": [{"x": p.x, "y": p.y, "colour": colour[p.theme_id], "theme_id": p.theme_id}
                    for p in points if p.theme_id in visible],
            "map_labels": _map_labels(points, themes[:10]),
            "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _map_labels(points: list[MapPoint], top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in top:
        xy = np.array([(p.x, p.y) for p in points if p.theme_id == t["theme_id"]])
        if len(xy):
            x, y = np.median(xy, axis=0)
            out.append({"x": float(x), "y": float(y), "label": t["label"], "rank": t["rank"]})
    return out


def render(data: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=2: "" if v is None else f"{v:.{d}f}"
    return env.get_template("report.html.j2").render(**data)


def write_report(db: str | Path, out: str | Path, with_map: bool = True) -> Path:
    """Render the report for the database at ``db`` into ``out`` (read-only access)."""
    con = store.connect(db, read_only=True)
    try:
        html = render(collect(con, with_map=with_map))
    finally:
        con.close()
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out
