"""``painpoints pull``, ``painpoints serve`` and ``painpoints prune``: the nightly operation from the
command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from painpoints.cli_theme import DB_HELP
from painpoints.discovery.store import StoreError
from painpoints.discovery.store import exists as db_exists


@click.command()
@click.option("--db", help=DB_HELP)
def pull(db: str | None) -> None:
    """Pull every source declared in painpoints.toml once, incrementally (files not seen before,
    API records changed since the stored cursor)."""
    from painpoints.connectors.http import HttpError
    from painpoints.connectors.readers import ConnectorError
    from painpoints.discovery.settings import load_settings
    from painpoints.discovery.sources import pull_source

    settings = load_settings(db=db)
    if not settings.sources:
        raise click.ClickException("no [[sources]] in painpoints.toml (or $PAINPOINTS_CONFIG)")
    try:
        for src in settings.sources:
            click.echo(f"{src.name}: {pull_source(settings, src).summary()}")
    except (StoreError, HttpError, ConnectorError) as err:  # ConnectorError: a dlt source failed
        raise click.ClickException(str(err)) from err


@click.command()
@click.option("--db", help=DB_HELP)
@click.option("--cron", help="Override schedule_cron (default from settings: 0 2 * * *)")
@click.option("--timezone", "tz", help="Override schedule_timezone (IANA name, default UTC)")
@click.option(
    "--port",
    default=4200,
    show_default=True,
    help="Port of the local Prefect server started when PREFECT_API_URL is not set",
)
def serve(db: str | None, cron: str | None, tz: str | None, port: int) -> None:
    """Serve the nightly deployment (pull → discover → alert) on its cron schedule until stopped.

    Uses the Prefect API in PREFECT_API_URL (a `prefect server start` or Prefect Cloud); without
    one it starts a local Prefect server on 127.0.0.1:PORT and says so."""
    from painpoints.discovery.settings import load_settings
    from painpoints.flows.nightly import serve as serve_nightly

    settings = load_settings(db=db, schedule_cron=cron, schedule_timezone=tz)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        url = f"http://127.0.0.1:{port}/api"
        click.echo(
            f"PREFECT_API_URL is not set: starting a local Prefect server at {url} "
            f"(UI: http://127.0.0.1:{port}); set PREFECT_API_URL to use your own server or Prefect Cloud"
        )
        server = _start_server(port)
        os.environ["PREFECT_API_URL"] = url
    click.echo(f"serving {settings.db} on '{settings.schedule_cron}' ({settings.schedule_timezone}); Ctrl-C stops")
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
            serve_nightly(settings)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def _start_server(port: int, timeout: float = 120.0) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(
                f"the local Prefect server exited (code {proc.returncode}); is port {port} free?"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.terminate()
    raise click.ClickException(f"the local Prefect server did not become healthy within {timeout:.0f} s")


@click.command()
@click.option("--db", help=DB_HELP)
@click.option(
    "--keep-runs", type=click.IntRange(1), help="Successful runs whose assignments stay (default: keep_runs, 30)"
)
@click.option(
    "--keep-days", type=click.IntRange(0), help="Prune only runs older than this many days (default: keep_days)"
)
@click.option(
    "--compact", is_flag=True, help="Then rewrite the database into a fresh, smaller file (needs it to itself)"
)
def prune(db: str | None, keep_runs: int | None, keep_days: int | None, compact: bool) -> None:
    """Drop old runs' per-segment assignments (the bulk of each run); theme history, per-run counts,
    labels, events and stats stay. The nightly flow prunes after every run."""
    from painpoints.discovery import retention, store
    from painpoints.discovery.settings import load_settings

    settings = load_settings(db=db, keep_runs=keep_runs, keep_days=keep_days)
    if not db_exists(settings.db):
        raise click.ClickException(f"{settings.db} does not exist")
    try:
        with store.connect(settings.db, lock_wait=settings.lock_wait) as con:
            done = retention.prune(con, settings.keep_runs, settings.keep_days)
        click.echo(
            f"pruned {len(done.runs)} run(s), {done.rows} assignment rows "
            f"(kept the newest {settings.keep_runs} successful runs"
            + (f" and any younger than {settings.keep_days} days)" if settings.keep_days is not None else ")")
        )
        if compact:
            before, after = retention.compact(settings.db)
            click.echo(f"compacted {settings.db}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    except StoreError as err:
        raise click.ClickException(str(err)) from err
