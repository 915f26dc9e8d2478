"""``painpoints search`` and ``painpoints mcp``: the workspace read side (painpoints/workspace.py) on
the command line and as an MCP server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from painpoints.cli_theme import DB_HELP

if TYPE_CHECKING:
    from painpoints.workspace import Workspace


def _workspace(db: str | None) -> Workspace:
    from painpoints.discovery.store import StoreError
    from painpoints.workspace import connect

    try:
        return connect(db)
    except StoreError as err:
        raise click.ClickException(str(err)) from err


@click.command()
@click.argument("text")
@click.option("--db", help=DB_HELP)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000), help="Rows to return")
@click.option("--theme", "theme_id", help="Only segments of this theme (e.g. T003)")
@click.option("--source", help="Only feedback from this source")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def search(text: str, db: str | None, limit: int, theme_id: str | None, source: str | None, fmt: str) -> None:
    """Find feedback by meaning, e.g. painpoints search "money back for my order"."""
    from painpoints.cli import _print
    from painpoints.discovery.search import COLUMNS, SearchError
    from painpoints.discovery.store import StoreError

    try:
        hits = _workspace(db).search(text, limit=limit, theme_id=theme_id, source=source)
    except (SearchError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    _print(list(COLUMNS), [tuple(h[c] for c in COLUMNS) for h in hits], fmt)


@click.command()
@click.option("--db", help=DB_HELP)
def mcp(db: str | None) -> None:
    """Serve the workspace to an assistant over MCP (stdio): pain points, themes with quoted
    evidence, search by meaning, read-only SQL."""
    from painpoints.mcp_server import serve

    serve(_workspace(db))


@click.command()
@click.option("--db", help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--token", envvar="PAINPOINTS_UI_TOKEN", help="Required beyond loopback (generated when not given)")
@click.option(
    "--allow-host", "allow_hosts", multiple=True, help="Another host name browsers use to reach it (Host header check)"
)
def ui(db: str | None, host: str, port: int, token: str | None, allow_hosts: tuple[str, ...]) -> None:
    """A local web app: pain points, requests and praise by area, theme pages, search, curation."""
    from painpoints.ui import serve as serve_ui

    serve_ui(_workspace(db), host=host, port=port, token=token, allow_hosts=allow_hosts)


@click.command(name="export")
@click.argument("theme_id")
@click.option("--db", help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["md", "csv"]), default="md", show_default=True)
@click.option("--quotes", default=20, show_default=True, type=click.IntRange(1), help="Quotes in the Markdown")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (default: stdout)")
def export(theme_id: str, db: str | None, fmt: str, quotes: int, out: str | None) -> None:
    """One theme for a ticket or a spreadsheet: Markdown (summary + quotes with their item ids) or CSV
    (every segment with its ids)."""
    from pathlib import Path

    from painpoints.discovery.store import StoreError
    from painpoints.export import export_theme

    try:
        text = export_theme(_workspace(db), theme_id, fmt, quotes)
    except (LookupError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
