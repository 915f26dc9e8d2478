"""The nightly flow: pull every declared source incrementally → discovery (incremental when little
changed, skipped when nothing did) → alert on emerging themes → the weekly digest on its weekday →
prune old run detail. ``serve()`` runs it on its cron schedule with Prefect."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from painpoints.discovery import alerts, digest, retention, sources, store
from painpoints.discovery.settings import Settings, load_settings
from painpoints.discovery.source_config import Source
from painpoints.flows.discovery import discover_flow

DEPLOYMENT = "painpoints-nightly"


@task(cache_policy=NONE, retries=2, retry_delay_seconds=30)  # network sources; a pull is idempotent
def pull_source(settings: Settings, src: Source) -> dict[str, int]:
    counts = sources.pull_source(settings, src)
    get_run_logger().info("%s: %s", src.name, counts.summary())
    return counts.as_dict()


@task(cache_policy=NONE)
def notify(settings: Settings, run_id: str) -> int:
    return alerts.notify(settings, run_id, get_run_logger())


@task(cache_policy=NONE)
def weekly_digest(settings: Settings) -> bool:
    """The week's digest on ``digest_weekday``, once per week (recorded in ``digests``)."""
    return digest.send_weekly(settings, logger=get_run_logger())


@task(cache_policy=NONE)
def prune(settings: Settings) -> int:
    """Retention after the run: old runs' assignments go (``keep_runs`` / ``keep_days``)."""
    with store.connect(settings.db, lock_wait=settings.lock_wait) as con:
        done = retention.prune(con, settings.keep_runs, settings.keep_days)
    if done.runs:
        get_run_logger().info("pruned the assignments of %d old run(s): %d rows", len(done.runs), done.rows)
    return len(done.runs)


def _run_name() -> str:
    from prefect.runtime import flow_run

    db = flow_run.parameters.get("db") or load_settings().db
    return f"nightly {Path(str(db)).stem} {store.utc_now():%Y-%m-%d}"


def _notify_failure(flow: object, flow_run: object, state: object) -> None:
    """A failed nightly run says so through the alert webhook (on_failure hook): nobody reads logs at 2 am."""
    settings = load_settings(db=getattr(flow_run, "parameters", {}).get("db"))
    alerts.notify_failure(settings, str(getattr(flow_run, "name", "")), str(getattr(state, "message", "") or ""))


@flow(name=DEPLOYMENT, flow_run_name=_run_name, on_failure=[_notify_failure])
def nightly_flow(db: str | None = None, full: bool = False) -> str:
    """Pull sources, discover, alert, send the weekly digest on its day, prune; returns the discovery run id."""
    settings = load_settings(db=db)
    for src in settings.sources:
        pull_source(settings, src)
    run_id = discover_flow(db=str(settings.db), full=full)
    notify(settings, run_id)
    weekly_digest(settings)
    prune(settings)
    return run_id


def serve(settings: Settings) -> None:
    """Serve the nightly deployment on ``schedule_cron`` in ``schedule_timezone`` (blocks).

    Schedules need a real Prefect API (a ``prefect server start`` or Prefect Cloud) named by
    ``PREFECT_API_URL``; Prefect's temporary in-process API cannot schedule."""
    from prefect.schedules import Cron

    nightly_flow.serve(
        name=DEPLOYMENT,
        global_limit=1,  # never two nightly runs on one store at once
        schedules=[Cron(settings.schedule_cron, timezone=settings.schedule_timezone)],
        parameters={"db": str(Path(settings.db).resolve())},
        description="painpoints: pull sources, discover themes, alert on emerging ones",
    )
