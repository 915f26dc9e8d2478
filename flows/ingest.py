"""The ingest flow: one task per file, each file committed on its own (retry-safe: re-ingest is
idempotent). It calls the same library entry as ``painpoints ingest`` with the same settings."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from painpoints.connectors.base import ColumnMap
from painpoints.connectors.speakers import SpeakerRules
from painpoints.discovery.ingest import IngestCounts, ingest_paths
from painpoints.discovery.settings import Settings, load_settings


@task(cache_policy=NONE)
def ingest_file(
    settings: Settings,
    path: str,
    source: str,
    kind: str,
    columns: ColumnMap,
    customer_roles: list[str] | None,
    speakers: SpeakerRules | None = None,
) -> IngestCounts:
    counts = ingest_paths(settings, [path], source, kind, columns, customer_roles, speakers)
    get_run_logger().info("%s: %s", path, counts.summary())
    return counts


@flow(name="painpoints-ingest")
def ingest_flow(
    db: str,
    paths: list[str],
    source: str,
    kind: str = "review",
    columns: ColumnMap | None = None,
    customer_roles: list[str] | None = None,
    agents: list[str] | None = None,
    customers: list[str] | None = None,
    company: list[str] | None = None,
) -> dict[str, int]:
    """Ingest ``paths`` into ``db``; returns the summed counts. ``columns`` maps input columns
    (auto-detected when None); ``customer_roles`` names the kept speakers of transcripts; ``agents``,
    ``customers`` and ``company`` tell agent from customer when speakers are named by person
    (docs/transcripts.md)."""
    settings = load_settings(db=db)
    speakers = (
        SpeakerRules.build(agents, customers, company, customer_roles) if agents or customers or company else None
    )
    total = IngestCounts()
    for path in paths:
        total.add(ingest_file(settings, path, source, kind, columns or ColumnMap(), customer_roles, speakers))
    return total.as_dict()
