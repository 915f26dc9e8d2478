"""One self-contained HTML page for stakeholders: ranked table, a card per theme (sentiment bar, weekly
sparkline, quotes, sources), a theme map and the run's metadata.

Self-contained means no CDN, font or script from elsewhere: the page must open on an offline laptop
and from an email attachment. Plots are inline SVG computed here. Every piece of text comes from
customers or PMs, so the template autoescapes everything (a review holding ``<script>`` shows as
text); only the SVG numbers are built in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from painpoints.discovery import runstore, store
from painpoints.discovery.vectors import umap_reduce

MAP_SAMPLE = 1500
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
]


@dataclass
class MapPoint:
    x: float
    y: float
    theme_id: str


def theme_map(con: duckdb.DuckDBPyConnection, sample: int = MAP_SAMPLE, seed: int = 42) -> list[MapPoint]:
    """2-D UMAP of a seeded sample of the latest run's assigned segments (their embeddings), scaled to
    0..1; the same map the explore notebook draws."""
    theme_ids, vectors = runstore.latest_vectors(con)
    if len(theme_ids) < 5:
        return []
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(theme_ids), size=min(sample, len(theme_ids)), replace=False))
    X = vectors[keep]
    xy = umap_reduce(
        X, n_neighbors=15, n_components=2, min_dist=0.1, random_state=seed, init="random" if len(X) < 50 else "spectral"
    )
    xy = (xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9)
    return [MapPoint(float(a), float(b), theme_ids[i]) for (a, b), i in zip(xy, keep, strict=True)]


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    """SVG polyline points for ``values`` (numbers only: safe to place in the markup)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))


def collect(con: duckdb.DuckDBPyConnection, weeks: int = 12, with_map: bool = True) -> dict[str, Any]:
    """Everything the page shows, read from the public views of the latest successful run."""
    run = runstore.latest_run(con)
    if run is None:
        raise store.StoreError("no successful run yet: run `painpoints run` first")
    themes = _rows(con, "report_pain_points")
    starts, weekly = _weekly(con, weeks)
    sentiment, shares, mentions = _sentiment_counts(con), _source_shares(con), _mentions(con)
    colour = {t["theme_id"]: PALETTE[i % len(PALETTE)] for i, t in enumerate(themes)}
    for t in themes:
        s = sentiment.get(t["theme_id"], {})
        total = sum(s.values()) or 1
        t["sentiment_split"] = [(k, s.get(k, 0) / total) for k in ("negative", "neutral", "positive")]
        series = [weekly.get(t["theme_id"], {}).get(d, 0) for d in starts]
        t["spark"] = sparkline(series) if any(series) else ""
        t["weekly"] = series
        t["source_shares"] = shares.get(t["theme_id"], [])
        t["mentions"] = mentions.get(t["theme_id"], [])
        t["colour"] = colour[t["theme_id"]]
    points = theme_map(con) if with_map else []
    visible = {t["theme_id"] for t in themes}
    return {
        "run": {
            "run_id": run.run_id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            **run.stats.as_dict(),
        },
        "themes": themes,
        "areas": _rows(con, "report_areas"),
        "requests": _rows(con, "report_feature_requests"),
        "praise": _rows(con, "report_praise"),
        "weeks": [d.isoformat() for d in starts],
        "map": [
            {"x": p.x, "y": p.y, "colour": colour[p.theme_id], "theme_id": p.theme_id}
            for p in points
            if p.theme_id in visible
        ],
        "map_labels": _map_labels(points, themes[:10]),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    cols, rows = store.query(con, store.sql(query))
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _weekly(con: duckdb.DuckDBPyConnection, weeks: int) -> tuple[list[date], dict[str, dict[Any, int]]]:
    """The last ``weeks`` week starts (oldest first) and items per theme per week start."""
    last = store.query(con, store.sql("report_last_week"))[1][0][0]
    if last is None:
        return [], {}
    weekly: dict[str, dict[Any, int]] = {}
    for tid, start, n in store.query(con, store.sql("report_weekly_items"), [last, weeks])[1]:
        weekly.setdefault(tid, {})[start] = n
    return [last - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)], weekly


def _sentiment_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Segments per theme and sentiment class."""
    counts: dict[str, dict[str, int]] = {}
    for tid, s, n in store.query(con, store.sql("report_sentiment_counts"))[1]:
        counts.setdefault(tid, {})[s] = n
    return counts


def _source_shares(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, float]]]:
    """Per theme, (source, share of the theme), largest first."""
    shares: dict[str, list[tuple[str, float]]] = {}
    for tid, source, share in store.query(con, store.sql("report_source_shares"))[1]:
        shares.setdefault(tid, []).append((source, share))
    return shares


def _mentions(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, float]]]:
    """Per theme, its five most frequent (@handle, share of the theme): the brands a social feed's
    theme concerns (the theme itself is the problem, clustered without the handles)."""
    out: dict[str, list[tuple[str, float]]] = {}
    for tid, mention, share in store.query(con, store.sql("report_mentions"))[1]:
        out.setdefault(tid, []).append((mention, share))
    return out


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

    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=2: "" if v is None else f"{v:.{d}f}"
    return env.get_template("report.html.j2").render(**data)


def write_report(db: str | Path, out: str | Path, with_map: bool = True) -> Path:
    """Render the report for the database at ``db`` into ``out`` (read-only access)."""
    with store.connect(db, read_only=True) as con:
        html = render(collect(con, with_map=with_map))
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out
