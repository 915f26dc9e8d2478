"""The nightly flow: pull every declared source incrementally → discovery (incremental when little
changed) → alert on emerging themes. ``serve()`` runs it on its cron schedule with Prefect."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from discovery import alerts, store
from discovery.ingest import INGEST_MEMORY_LIMIT
from discovery.settings import Settings, load_settings
from discovery.sources import FileSource, ZendeskSource, pull
from flows.discovery import discover_flow

DEPLOYMENT = "painpoints-nightly"


@task(cache_policy=NONE, retries=2, retry_delay_seconds=30)  # network sources; a pull is idempotent
def pull_source(settings: Settings, src: FileSource | ZendeskSource) -> dict[str, int]:
    con = store.connect(settings.db, lock_wait=settings.lock_wait, memory_limit=INGEST_MEMORY_LIMIT)
    try:
        counts = pull(con, src, keep_original=settings.store_original)
    finally:
        con.close()
    get_run_logger().info("%s: %s", src.name, counts)
    return {k: v for k, v in counts.__dict__.items() if isinstance(v, int)}


@task(cache_policy=NONE)
def notify(settings: Settings, run_id: str) -> int:
    """Send this run's emerging themes to the webhook; a failed webhook is logged, not fatal: the
    run's results are already committed and the alerts stay in the theme_alerts view."""
    con = store.connect(settings.db, read_only=True)
    try:
        cols, rows = store.query(con, alerts.ALERT_SQL, [run_id])
    finally:
        con.close()
    found = [dict(zip(cols, r)) for r in rows]
    if settings.alert_webhook is None or not found:
        return 0
    try:
        alerts.send(settings.alert_webhook.get_secret_value(), found, run_id)
    except Exception as err:  # noqa: BLE001 (reported, never raised: see docstring)
        get_run_logger().error("alert webhook failed: %s", type(err).__name__ + ": " + str(err)[:200])
        return 0
    return len(found)


@flow(name=DEPLOYMENT)
def nightly_flow(db: str | None = None, full: bool = False) -> str:
    """Pull sources, discover, alert; returns the discovery run id."""
    settings = load_settings(db=db)
    for src in settings.sources:
        pull_source(settings, src)
    run_id = discover_flow(db=str(settings.db), full=full)
    notify(settings, run_id)
    return run_id


def serve(settings: Settings) -> None:
    """Serve the nightly deployment on ``schedule_cron`` in ``schedule_timezone`` (blocks).

    Schedules need a real Prefect API (a ``prefect server start`` or Prefect Cloud) named by
    ``PREFECT_API_URL``; Prefect's temporary in-process API cannot schedule."""
    from prefect.schedules import Cron

    nightly_flow.serve(name=DEPLOYMENT, schedules=[Cron(settings.schedule_cron, timezone=settings.schedule_timezone)],
                       parameters={"db": str(Path(settings.db).resolve())},
                       description="painpoints: pull sources, discover themes, alert on emerging ones")
