"""The ingest flow: one task per file, each file committed on its own (retry-safe: re-ingest is
idempotent)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from connectors.files import ColumnMap
from discovery.ingest import IngestCounts, ingest_paths


@task(cache_policy=NONE)
def ingest_file(db: str, path: str, source: str, kind: str, columns: ColumnMap) -> IngestCounts:
    counts = ingest_paths(db, [path], source, kind, columns)
    get_run_logger().info("%s: %s", path, counts)
    return counts


@flow(name="painpoints-ingest")
def ingest_flow(db: str, paths: list[str], source: str, kind: str = "review", text: str | None = None,
                id: str | None = None, time: str | None = None, rating: str | None = None,
                author: str | None = None) -> dict[str, int]:
    """Ingest ``paths`` into ``db``; returns the summed counts."""
    columns = ColumnMap(text=text, id=id, time=time, rating=rating, author=author)
    total = IngestCounts()
    for path in paths:
        total.add(ingest_file(db, path, source, kind, columns))
    return {"read": total.read, "stored": total.stored, "duplicates": total.duplicates,
            "rejected": total.rejected}
