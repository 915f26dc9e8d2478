"""Typed records that travel between the discovery steps and to the store.

Each record is one row of a table (``ThemeSnapshot`` ↔ ``theme_snapshots``, ``Assignment`` ↔
``assignments``, ``KnownTheme`` ↔ ``themes``, ``ThemeEvent`` ↔ ``theme_events``) or one JSON document
(``RunStats`` ↔ ``runs.stats``); ``discovery.runstore`` turns them into Arrow tables at the store
boundary. Field names are the column (or JSON key) names, so SQL, the views and these records read
alike. This module imports nothing from the library: every step can depend on it.

Results used to be plain dicts, and notebooks and scripts index them (``theme["label"]``,
``result.stats["themes"]``); records keep that read access by column name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from painpoints.discovery.assigned import Assignments
    from painpoints.discovery.llm import LLMReport


class Columns:
    """Read access by column name, ``row["label"]`` as ``row.label``, for code written against the
    dict rows that records replaced."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:  # type: ignore[attr-defined]
            raise KeyError(key)
        return getattr(self, key)


@dataclass(slots=True)
class ThemeName(Columns):
    """A theme's name from a labeler: label, one-line description, keywords, representative quotes."""

    label: str
    description: str
    keywords: list[str]
    quotes: list[str]


@dataclass(slots=True)
class ThemeScore(Columns):
    """The pain-point score of one theme with its components (``discovery.rank``); ``theme`` is the
    theme's index in the run, ``rank`` 1 = most painful."""

    theme: int
    items: int
    feedback_items: int
    share: float
    weighted_share: float
    negative_share: float
    avg_sentiment: float
    trend: float | None
    trend_factor: float
    score: float
    sources: list[str]
    rank: int = 0
    trend_recent: int | None = None  # segments in the recent windows (per source, see discovery.rank)
    trend_expected: float | None = None  # what the theme's earlier share predicted there
    impact: float | None = None  # rise of the average rating without the theme's items
    avg_rating: float | None = None
    rated_items: int = 0
    request_trend: float | None = None  # the trend of the theme's request segments alone (feature_requests)
    request_trend_recent: int | None = None
    request_trend_expected: float | None = None


@dataclass(slots=True)
class ThemeTrend(Columns):
    """Is a theme emerging (``discovery.trends``): its latest period against a baseline."""

    recent_items: int | None
    baseline_mean: float | None
    growth: float | None
    zscore: float | None
    emerging: bool
    emerging_reason: str | None  # new | spike


@dataclass(slots=True)
class ThemeSnapshot(Columns):
    """One row of ``theme_snapshots`` (``run_id`` is added by the store): a theme as this run saw it."""

    theme_id: str
    label: str
    description: str | None
    keywords: list[str]
    items: int
    feedback_items: int
    share: float
    weighted_share: float
    negative_share: float
    avg_sentiment: float
    trend: float | None
    trend_factor: float
    score: float
    rank: int
    example_quotes: list[str]
    sources: list[str]
    label_method: str  # offline | llm | curated
    label_offline: str | None = None
    grounding: float | None = None
    llm_sentiment: str | None = None
    severity: str | None = None
    category: str | None = None
    status: str | None = None  # new | continuing | revived | split
    pinned: bool = False
    hidden: bool = False
    recent_items: int | None = None
    baseline_mean: float | None = None
    growth: float | None = None
    zscore: float | None = None
    emerging: bool = False
    emerging_reason: str | None = None
    trend_recent: int | None = None
    trend_expected: float | None = None
    impact: float | None = None
    avg_rating: float | None = None
    rated_items: int = 0
    area_id: str | None = None  # the area above the theme (discovery.areas)
    area_label: str | None = None
    theme_type: str | None = None  # problem | request | praise (discovery.feedback_type.theme_types)
    problem_share: float | None = None
    request_share: float | None = None
    praise_share: float | None = None
    positive_share: float | None = None
    request_trend: float | None = None  # feature_requests' trend: the theme's request segments alone
    request_trend_recent: int | None = None
    request_trend_expected: float | None = None


@dataclass(slots=True)
class KnownArea(Columns):
    """One row of the ``areas`` table: an area's stable identity across runs."""

    area_id: str
    label: str
    status: str  # active | dormant
    centroid: np.ndarray | None
    themes: int
    first_run: str
    last_run: str


@dataclass
class Areas:
    """The areas step's result: per theme index its area id, and per area id its label; ``state`` is
    the next ``areas`` table."""

    area_of_theme: list[str]
    label: dict[str, str]
    state: list[KnownArea]


@dataclass(slots=True)
class Assignment(Columns):
    """One row of ``assignments`` (``run_id`` added by the store): a segment's theme and sentiment."""

    segment_id: str
    theme_id: str | None  # None = unassigned
    how: str  # cluster | reassigned | assigned | kept | outlier
    content_hash: str
    sentiment: str
    sentiment_score: float
    llm_sentiment: str | None = None
    feedback_type: str | None = None  # problem | request | question | praise | other


def assignment_rows(assigned: Assignments) -> list[Assignment]:
    """A run's assignments (``DiscoveryResult.assignments``) as records: for tests and small reads."""
    return [Assignment(**row) for row in assigned.table().to_pylist()]


@dataclass(slots=True)
class ThemeEvent(Columns):
    """One row of ``theme_events`` (``run_id`` added by the store)."""

    theme_id: str
    event: str  # new | revived | dormant | split | merged
    other_theme_id: str | None = None  # split: the parent; merged: the theme it went into
    share: float | None = None
    detail: str | None = None  # "reclustering" | "curation <id>" | "curation"


@dataclass
class KnownTheme(Columns):
    """One row of the ``themes`` table: what a theme is across runs."""

    theme_id: str
    label: str
    label_method: str
    status: str  # active | dormant | merged | split
    centroid: np.ndarray | None
    description: str | None = None
    merged_into: str | None = None
    items: int = 0
    first_run: str = ""
    last_run: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    radius: float | None = None


@dataclass
class LLMStats:
    """The ``llm_*`` keys of ``runs.stats``: what LLM naming cost and how much of it was used."""

    requests: int = 0
    cache_hits: int = 0
    fallbacks: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_estimate: float = 0.0
    ungrounded: int = 0  # LLM labels that failed the grounding check
    themes_offline: int = 0  # themes that kept their offline name


@dataclass
class RunStats:
    """``runs.stats``: counts, shares and stage durations of one run. Serialised by ``as_dict`` to
    the JSON keys the views, the CLI and the benchmarks read (``mode``, ``themes``, ``llm_requests``…).

    ``llm`` is None when no LLM was used (no ``llm_*`` keys then); ``new_segments`` and
    ``new_embeddings`` are the prepare and embed steps' counts, set by the flow; ``extra`` keeps keys
    this code does not know (written by a newer version), so a round trip loses nothing.
    """

    mode: str = "full"  # full | incremental
    mode_reason: str = ""
    segments: int = 0
    feedback_items: int = 0
    themes: int = 0
    unassigned: int = 0
    unassigned_share: float = 0.0
    reassigned: int = 0
    kept: int = 0
    assigned_to_known: int = 0
    themes_new: int = 0
    themes_revived: int = 0
    themes_dormant: int = 0
    same_theme_share: float | None = None  # None on a first run
    emerging: int = 0
    min_theme_size: int | None = None  # HDBSCAN min_cluster_size (on the fit sample past fit_sample segments)
    min_theme_items: int | None = None  # the smallest theme in segments of the window (ThemeClusterer.min_items_)
    window_days: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    vectors_read: int | None = (
        None  # segment vectors the run read (all in a full run; an incremental one reads what it needs)
    )
    embed_model: str | None = None
    sentiment_model: str | None = None  # the sentiment weights that scored the run (``SentimentModel.key_``)
    type_model: str | None = None  # the feedback-type weights and rules that typed it (``FeedbackTypeModel.key_``)
    llm: LLMStats | None = None
    new_segments: int | None = None
    new_embeddings: int | None = None
    engine: str = "local"  # where the embed step ran: "local" or "ray"
    engine_workers: int | None = None  # Ray worker processes that embedded a shard (None: local)
    engine_nodes: int | None = None  # Ray nodes they ran on
    scoring_engine: str = "local"  # where the per-text rules of sentiment and typing ran: "local" or "ray"
    scoring_workers: int | None = None  # Ray worker processes that ran a chunk of them (None: local)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``runs.stats`` JSON document."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_PLAIN}
        if self.llm is not None:
            out.update({f"llm_{f.name}": getattr(self.llm, f.name) for f in fields(self.llm)})
        out.update({k: getattr(self, k) for k in ("new_segments", "new_embeddings") if getattr(self, k) is not None})
        return {**out, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunStats:
        """Parse ``runs.stats``; keys missing in runs of older versions take the defaults."""
        plain = {f.name for f in fields(cls)} - {"llm", "extra"}
        llm_keys = {f"llm_{f.name}": f.name for f in fields(LLMStats)}
        llm = {llm_keys[k]: v for k, v in data.items() if k in llm_keys}
        extra = {k: v for k, v in data.items() if k not in plain and k not in llm_keys}
        return cls(**{k: v for k, v in data.items() if k in plain}, llm=LLMStats(**llm) if llm else None, extra=extra)

    def __getitem__(self, key: str) -> Any:
        """``stats["themes"]``, ``stats["llm_requests"]``: the JSON document's keys."""
        return self.as_dict()[key]


_NOT_PLAIN = ("llm", "new_segments", "new_embeddings", "extra")


@dataclass
class NewEmbeddings:
    """Vectors a run computed that the embedding cache did not hold: ``vectors[i]`` embeds the text
    whose content hash is ``hashes[i]`` under cache key ``model``. The store writes them with the run."""

    model: str
    hashes: list[str]
    vectors: np.ndarray


@dataclass
class DiscoveryResult:
    """What one run found, before it is written (``runstore.finish_run`` writes it in one transaction)."""

    themes: list[ThemeSnapshot]
    assignments: Assignments  # one row per segment, columns of ``Assignment`` (``assignment_rows`` reads them)
    stats: RunStats
    llm_calls: list[dict[str, Any]] = field(default_factory=list)  # rows of llm_calls, see discovery.llm
    theme_state: list[KnownTheme] | None = None  # the new themes table; None leaves it as it is
    events: list[ThemeEvent] = field(default_factory=list)
    applied_curation: list[str] = field(default_factory=list)
    embeddings: list[NewEmbeddings] = field(default_factory=list)
    area_state: list[KnownArea] | None = None  # the new areas table; None leaves it as it is

    def with_counts(self, new_segments: int | None = None, embedded: EmbedReport | None = None) -> DiscoveryResult:
        """This result with the prepare and embed steps' counts (and where embedding ran) in its stats."""
        stats = replace(self.stats, new_segments=new_segments)
        if embedded is not None:
            stats = replace(
                stats,
                new_embeddings=embedded.embedded,
                engine=embedded.engine,
                engine_workers=embedded.workers,
                engine_nodes=embedded.nodes,
            )
        return replace(self, stats=stats)


@dataclass(frozen=True)
class EmbedReport:
    """What the embed step did: texts embedded, on which engine, by how many Ray workers on how many
    nodes (None for the local engine). Small on purpose: it is what crosses Prefect, not vectors."""

    embedded: int
    engine: str = "local"
    workers: int | None = None
    nodes: int | None = None


@dataclass
class LatestRun:
    """The latest successful run (the one the views show) and its parsed stats."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    stats: RunStats


# ------------------------------------------------------------------- between the steps of discover
@dataclass
class Identity:
    """The run's assignment after identity tracking and curation (``themes.identify``)."""

    theme_of: Sequence[str | None]  # stable theme id per segment, None = unassigned (a ``coded.Coded``)
    how: Sequence[str]  # kept | assigned | cluster | reassigned | outlier (a ``coded.Coded``)
    events: list[ThemeEvent]
    applied_curation: list[str]
    min_cluster_size: int | None
    min_items: int | None = None  # the smallest theme in items (min_cluster_size scaled from a fit sample)


@dataclass
class Found:
    """The identify step's result: each segment's stable theme id, and the run's theme index."""

    identity: Identity
    order: list[str]  # theme ids by decreasing size: theme index i is order[i]
    labels: np.ndarray  # theme index per segment, -1 = unassigned
    centroids: np.ndarray  # normalised, per theme index
    # theme index → last run's (centroid, radius), for the steady themes of an incremental run
    kept_geometry: dict[int, tuple[np.ndarray, float]] = field(default_factory=dict)


# A segment's sentiment score (−1..1) as a run holds it: four bytes, not eight, a row (76 → 38 MB at 10M
# segments, held from scoring to the write). The store's column stays DOUBLE; a float32 widens exactly,
# so a segment scored alike compares equal to its stored row and is not logged again.
SCORE_TYPE = np.float32


@dataclass
class Scores:
    """The score step's result: sentiment per segment, then the pain-point score per theme."""

    sentiment: Sequence[str]  # a ``coded.Coded`` in a run: a one-byte code per segment
    sentiment_score: np.ndarray
    ranked: list[ThemeScore] = field(default_factory=list)
    feedback_type: Sequence[str] | None = None  # per segment (discovery.feedback_type), coded as sentiment


@dataclass
class LLMNaming:
    """Per theme index, the snapshot columns the LLM sets; plus the call report."""

    themes: dict[int, dict[str, Any]]
    report: LLMReport
    ungrounded: int  # LLM labels that failed the grounding check


@dataclass
class Naming:
    """The name step's result: a name per theme index, which labels were kept, what the LLM said."""

    names: list[ThemeName]
    fixed: dict[int, str]  # theme index → label kept from earlier runs or curated
    llm: LLMNaming | None = None
    llm_sentiment: list[str | None] | None = None  # per segment, opt-in

    def open(self) -> list[int]:
        """Theme indices without a kept label: the ones an LLM may name."""
        return [i for i in range(len(self.names)) if i not in self.fixed]
