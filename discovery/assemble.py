"""The last step of a discovery run: from what the steps found to the rows a run writes.

Theme snapshots (ranked, with kept and curated labels, LLM columns, status and emerging flags),
one assignment per segment, the next ``themes`` table with its lifecycle events, and ``runs.stats``.
Pure: records in, ``DiscoveryResult`` out; ``runstore.finish_run`` writes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from painpoints.discovery import themes
from painpoints.discovery.assigned import Assignments
from painpoints.discovery.coded import mask_of
from painpoints.discovery.columns import ArrowColumn, as_dictionary, count_distinct, to_arrow
from painpoints.discovery.feedback_type import ThemeType, theme_types
from painpoints.discovery.lastrun import theme_and_same
from painpoints.discovery.records import (
    SCORE_TYPE,
    Areas,
    Assignment,
    DiscoveryResult,
    Found,
    KnownTheme,
    LLMNaming,
    LLMStats,
    Naming,
    RunStats,
    Scores,
    ThemeScore,
    ThemeSnapshot,
    ThemeTrend,
)
from painpoints.discovery.runinput import RunInput
from painpoints.discovery.runstore import ThemeState, arrow_schema
from painpoints.discovery.settings import Settings
from painpoints.discovery.store import utc_now
from painpoints.discovery.trends import TrendRule, theme_trends
from painpoints.discovery.vectors import radii

CODED = ("theme_id", "how", "sentiment", "llm_sentiment", "feedback_type")  # assignment columns held as codes
NARROW = {"sentiment_score": pa.from_numpy_dtype(SCORE_TYPE)}  # held narrower than the record's float64


@dataclass
class RunInfo:
    """What the assemble step records about the run itself."""

    run_id: str
    mode: str
    reason: str
    seconds: dict[str, float]
    now: datetime = field(default_factory=utc_now)


def assemble(
    data: RunInput,
    state: ThemeState,
    found: Found,
    scores: Scores,
    naming: Naming,
    settings: Settings,
    run: RunInfo,
    areas: Areas | None = None,
) -> DiscoveryResult:
    """The run's rows: theme snapshots, assignments, the next theme state with its events, stats."""
    status = theme_status(found, state)
    trends = theme_trends(
        found.labels,
        data.created_at,
        len(found.order),
        [s == "new" and state.run_id is not None for s in status],
        TrendRule(
            settings.alert_period_days, settings.alert_baseline_periods, settings.alert_zscore, settings.alert_min_items
        ),
    )
    kinds = (
        theme_types(found.labels, scores.feedback_type, scores.sentiment, len(found.order))
        if scores.feedback_type is not None
        else None
    )
    snapshots = theme_snapshots(found, scores.ranked, naming, status, trends, state, kinds)
    if areas is not None:
        of = dict(zip(found.order, areas.area_of_theme, strict=True))
        for row in snapshots:
            row.area_id = of[row.theme_id]
            row.area_label = areas.label[row.area_id]
    splits = [e for e in found.identity.events if e.event == "split"]
    state_rows, life_events = themes.next_state(
        found_themes(data, found, snapshots), state.known, state.curation, splits, run.run_id, run.now
    )
    stats = run_summary(data, state, found, snapshots, status, life_events, settings, run)
    if naming.llm is not None:
        stats.llm = llm_stats(naming.llm, snapshots, settings)
    return DiscoveryResult(
        themes=snapshots,
        assignments=assignments(data, found, scores, naming),
        stats=stats,
        llm_calls=naming.llm.report.calls if naming.llm else [],
        theme_state=state_rows,
        events=found.identity.events + life_events,
        applied_curation=found.identity.applied_curation,
        area_state=areas.state if areas is not None else None,
    )


def theme_status(found: Found, state: ThemeState) -> list[str]:
    """Per theme index: continuing | revived (was dormant) | split (a part of a curated split) | new."""
    split_children = {
        e.theme_id for e in found.identity.events if e.event == "split" and (e.detail or "").startswith("curation")
    }
    known = state.known
    return [
        "continuing"
        if t in known and known[t].status != "dormant"
        else "revived"
        if t in known
        else "split"
        if t in split_children
        else "new"
        for t in found.order
    ]


def theme_snapshots(
    found: Found,
    ranked: list[ThemeScore],
    naming: Naming,
    status: list[str],
    trends: list[ThemeTrend],
    state: ThemeState,
    kinds: list[ThemeType] | None = None,
) -> list[ThemeSnapshot]:
    """One snapshot row per theme, ranked 1..n over the visible themes by score; hidden ones last."""
    cur, known = state.curation, state.known
    rows = []
    for r in ranked:
        t, tid, nm = r.theme, found.order[r.theme], naming.names[r.theme]
        score = {k: v for k, v in asdict(r).items() if k != "theme"}
        row = ThemeSnapshot(
            theme_id=tid,
            label=nm.label,
            label_offline=nm.label,
            description=nm.description,
            keywords=nm.keywords,
            example_quotes=nm.quotes,
            label_method="offline",
            status=status[t],
            pinned=tid in cur.pinned,
            hidden=tid in cur.hidden,
            **score,
            **asdict(trends[t]),
            **(asdict(kinds[t]) if kinds else {}),
        )
        if t in naming.fixed:
            row.label_method = "curated" if tid in cur.renames else known[tid].label_method
            if row.label_method != "offline" and tid in known:
                row.description = known[tid].description
        if naming.llm is not None:
            row = replace(row, **naming.llm.themes.get(t, {}))
        rows.append(row)
    rows.sort(key=lambda r: (r.hidden, r.rank))
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows


def found_themes(data: RunInput, found: Found, snapshots: list[ThemeSnapshot]) -> list[KnownTheme]:
    """This run's themes as rows of the ``themes`` table, with centroid and radius (how close a new
    item must be to join in an incremental run)."""
    by_id = {r.theme_id: r for r in snapshots}
    kept = {t: r for t, (_, r) in found.kept_geometry.items()}
    radius = radii(data.vectors, found.labels, found.centroids, known=kept)
    return [
        KnownTheme(
            t,
            by_id[t].label,
            by_id[t].label_method,
            "active",
            found.centroids[i],
            description=by_id[t].description,
            items=by_id[t].items,
            radius=float(radius[i]),
        )
        for i, t in enumerate(found.order)
    ]


def assignments(data: RunInput, found: Found, scores: Scores, naming: Naming) -> Assignments:
    """One row per segment: its theme (None = unassigned), how it got it, its sentiment and feedback
    type — as Arrow columns, not an object per segment (10M of them held ~1.4 GB; issue 18). The
    columns with a few distinct values (``CODED``) are dictionary-encoded, a 1–4 byte code per row: as
    strings they were ~50 bytes a segment, held at the run's end beside everything else it holds (the
    10M run's peak) and until the write. Segment ids and content hashes a run keeps in scratch files
    stay there (``assigned.Assignments``: the write reads them a block at a time)."""
    n = len(data.segment_id)
    values: dict[str, Any] = {
        "segment_id": data.segment_id,
        "theme_id": found.identity.theme_of,
        "how": found.identity.how,
        "content_hash": data.content_hash,
        "sentiment": scores.sentiment,
        "sentiment_score": scores.sentiment_score,
        "llm_sentiment": naming.llm_sentiment,
        "feedback_type": scores.feedback_type,
    }
    fields, columns = [], {}
    for f in arrow_schema(Assignment):
        value = values[f.name]
        if isinstance(value, ArrowColumn) and value.spilled:
            columns[f.name], kind = value, f.type
        else:
            want = NARROW.get(f.name, f.type)
            column = as_dictionary(value, n, want) if f.name in CODED else to_arrow(value, want, n)
            columns[f.name], kind = column, column.type
        fields.append(pa.field(f.name, kind))
    return Assignments(pa.schema(fields), columns)


def run_summary(
    data: RunInput,
    state: ThemeState,
    found: Found,
    snapshots: list[ThemeSnapshot],
    status: list[str],
    life_events: list[Any],
    settings: Settings,
    run: RunInfo,
) -> RunStats:
    """``runs.stats`` of the run (without the LLM part)."""
    labels, how, n = found.labels, found.identity.how, len(found.labels)
    previous_theme = theme_and_same(state.previous, data.segment_id, data.content_hash)[0]
    return RunStats(
        mode=run.mode,
        mode_reason=run.reason,
        segments=n,
        feedback_items=count_distinct(data.feedback_id),
        themes=len(snapshots),
        unassigned=int((labels < 0).sum()),
        unassigned_share=float((labels < 0).mean()) if n else 0.0,
        reassigned=int(mask_of(how, "reassigned").sum()) if n else 0,
        kept=int(mask_of(how, "kept").sum()) if n else 0,
        assigned_to_known=int(mask_of(how, "assigned").sum()) if n else 0,
        themes_new=status.count("new"),
        themes_revived=status.count("revived"),
        themes_dormant=sum(e.event == "dormant" for e in life_events),
        same_theme_share=themes.same_theme_share(previous_theme, found.identity.theme_of),
        emerging=sum(bool(r.emerging) for r in snapshots),
        min_theme_size=found.identity.min_cluster_size,
        min_theme_items=found.identity.min_items,
        window_days=settings.window_days,
        seconds=run.seconds,
        embed_model=settings.embed_key,
    )


def llm_stats(naming: LLMNaming, snapshots: list[ThemeSnapshot], settings: Settings) -> LLMStats:
    """The ``llm_*`` part of ``runs.stats``: requests, tokens, cost estimate, fallbacks."""
    spent = naming.report.stats(settings.llm_price_in_per_1k, settings.llm_price_out_per_1k)
    return LLMStats(
        **{k.removeprefix("llm_"): v for k, v in spent.items()},
        ungrounded=naming.ungrounded,
        themes_offline=sum(r.label_method == "offline" for r in snapshots),
    )
