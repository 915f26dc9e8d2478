"""Search by meaning over every stored segment (issue 19): the query is embedded with the run's model
and compared with the cached segment vectors, with a small bonus for the query's own words.

The scan is exact and runs inside DuckDB (an inner product with every cached vector: the ``Encoder``
contract makes vectors unit length, so it is the cosine), so Python never holds the store's vectors:
memory stays flat, and the time grows with the number of segments (``benchmarks/search.py`` measures
p50/p95 at 10k and 1M). The nearest ``CANDIDATES_PER_ROW × limit`` (at least ``MIN_CANDIDATES``) are
then reordered with a keyword bonus, so an exact product or error name ("E-503", "dark mode") wins
among equally close meanings without a keyword alone outranking meaning. Segments not yet in a run are
found too (without a theme).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb

from painpoints.discovery import store
from painpoints.discovery.components import Encoder

KEYWORD_WEIGHT = 0.1  # a full keyword match adds what ~0.1 of cosine similarity is worth
CANDIDATES_PER_ROW, MIN_CANDIDATES = 10, 200  # the nearest rows the keyword bonus may reorder
_STOP = frozenset(
    "a an and are as at be but by for from had has have i in is it its me my no not of on or our so "
    "that the their them they this to was we were what when where which who why with you your".split()
)


class SearchError(ValueError):
    """A search that cannot run (empty query, no vectors for the model): said in one line."""


@dataclass(frozen=True)
class Hit:
    """One segment found: the feedback item it belongs to, its theme in the latest run, its score."""

    feedback_id: str
    external_id: str
    source: str
    created_at: datetime | None
    text: str
    theme_id: str | None
    theme_label: str | None
    score: float


COLUMNS = tuple(Hit.__dataclass_fields__)


def terms(query: str) -> list[str]:
    """The query's words that count for the keyword bonus (lower case, no stop words, ≥ 2 chars)."""
    words = re.findall(r"[a-z0-9]+", query.lower())
    return sorted({w for w in words if len(w) >= 2 and w not in _STOP})


def search(
    con: duckdb.DuckDBPyConnection,
    encoder: Encoder,
    query: str,
    limit: int = 10,
    theme_id: str | None = None,
    source: str | None = None,
    keyword_weight: float = KEYWORD_WEIGHT,
) -> list[Hit]:
    """The ``limit`` segments closest in meaning to ``query`` (optionally within one theme or source),
    best first. ``encoder`` must be the one the store's vectors were made with (its ``key``)."""
    if not query.strip():
        raise SearchError("empty search: give some text to search for")
    if limit < 1:
        raise SearchError("limit must be at least 1")
    if not store.scalar(con, store.sql("search_vector_count"), [encoder.key]):
        raise SearchError(
            f"no segment vectors under {encoder.key!r} in this database: run `painpoints run` first "
            "(or search with the embedding settings the runs used)"
        )
    vector = encoder.encode([query])[0].astype("float32").tolist()
    params = {
        "vector": vector,
        "model": encoder.key,
        "terms": terms(query),
        "kw_weight": keyword_weight,
        "theme": theme_id,
        "source": source,
        "limit": limit,
        "candidates": max(MIN_CANDIDATES, CANDIDATES_PER_ROW * limit),
    }
    rows = con.execute(store.sql("search_segments"), params).fetchall()
    return [
        Hit(
            feedback_id=r[0],
            external_id=r[1],
            source=r[2],
            created_at=r[3],
            text=r[4],
            theme_id=r[5],
            theme_label=r[6],
            score=round(float(r[7]), 4),
        )
        for r in rows
    ]
