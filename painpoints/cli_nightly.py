"""``painpoints pull`` and ``painpoints serve``: the nightly operation from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from discovery.store import StoreError
from painpoints.cli_theme import DB_HELP


@click.command()
@click.option("--db", help=DB_HELP)
def pull(db: str | None) -> None:
    """Pull every source declared in painpoints.toml once, incrementally (files not seen before,
    API records changed since the stored cursor)."""
    from connectors.http import HttpError
    from discovery.settings import load_settings
    from discovery.sources import pull_source

    settings = load_settings(db=db)
    if not settings.sources:
        raise click.ClickException("no [[sources]] in painpoints.toml (or $PAINPOINTS_CONFIG)")
    try:
        for src in settings.sources:
            click.echo(f"{src.name}: {pull_source(settings, src).summary()}")
    except (StoreError, HttpError) as err:
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
    from discovery.settings import load_settings
    from flows.nightly import serve as serve_nightly

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
