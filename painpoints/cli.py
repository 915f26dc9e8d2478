"""The ``painpoints`` command: a thin layer turning CLI syntax into library calls.

Library errors (``ConnectorError``, ``StoreError``) become clean one-line ``click`` errors here and
nowhere else.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from painpoints.cli_ask import ask
from painpoints.cli_nightly import prune, pull, serve
from painpoints.cli_push import digest, push
from painpoints.cli_theme import DB_HELP, theme
from painpoints.cli_workspace import export, mcp, search
from painpoints.cli_workspace import ui as ui_command
from painpoints.connectors.base import ColumnMap
from painpoints.connectors.readers import ConnectorError
from painpoints.discovery.store import StoreError
from painpoints.discovery.store import exists as db_exists

if TYPE_CHECKING:
    from painpoints.discovery.records import RunStats

for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)


def _db(db: str | None) -> Path:
    from painpoints.discovery.settings import load_settings

    return load_settings(db=db).db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="painpoints")
def main() -> None:
    """painpoints: customer feedback in, a ranked table of pain points out."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--source", required=True, help="Name of the source, e.g. app_store, zendesk, calls")
@click.option("--kind", type=click.Choice(["review", "ticket", "transcript"]), default="review", show_default=True)
@click.option(
    "--text",
    "text_col",
    help="Column holding the text, a nested field as a dotted path (attributes.body), or columns joined "
    "with + (title+body); auto-detected if omitted (docs/ingest_formats.md)",
)
@click.option("--id", "id_col", help="Column holding the source's id (dotted paths work for every column flag)")
@click.option("--time", "time_col", help="Column holding the creation time")
@click.option("--rating", "rating_col", help="Column holding a star rating")
@click.option("--author", "author_col", help="Column holding the author")
@click.option(
    "--customer-role",
    "customer_roles",
    multiple=True,
    help="Transcripts: speaker name whose turns are kept (repeatable; default customer/user/USR/caller…)",
)
@click.option("--agent", "agents", multiple=True, help="Transcripts: a person on the company side (repeatable)")
@click.option("--customer", "customers", multiple=True, help="Transcripts: a person on the customer side (repeatable)")
@click.option(
    "--company",
    multiple=True,
    help="Transcripts: the company's name or domain (Acme, acme.com); speakers labelled with it are agents "
    "(repeatable; docs/transcripts.md)",
)
@click.option("--db", help=DB_HELP)
def ingest(
    paths: tuple[str, ...],
    source: str,
    kind: str,
    text_col: str | None,
    id_col: str | None,
    time_col: str | None,
    rating_col: str | None,
    author_col: str | None,
    customer_roles: tuple[str, ...],
    agents: tuple[str, ...],
    customers: tuple[str, ...],
    company: tuple[str, ...],
    db: str | None,
) -> None:
    """Load review/ticket exports (CSV, JSON, JSONL, Parquet) or transcripts (VTT, SRT, speaker lines,
    JSON turns) into the database. Unmapped columns are kept as metadata; bad rows go to rejected_rows."""
    from rich.console import Console
    from rich.progress import track

    from painpoints.connectors.speakers import SpeakerRules
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.settings import load_settings

    columns = ColumnMap(text=text_col, id=id_col, time=time_col, rating=rating_col, author=author_col)
    named = agents or customers or company  # speakers named by person (docs/transcripts.md)
    speakers = SpeakerRules.build(agents, customers, company, customer_roles) if named else None
    # a progress bar over files on a terminal only: CI logs and pipes stay clean
    files = (
        track(paths, description="ingesting", console=Console(stderr=True))
        if sys.stderr.isatty() and len(paths) > 1
        else paths
    )
    try:
        settings = load_settings(db=db)
        counts = ingest_paths(settings, files, source, kind, columns, customer_roles or None, speakers)  # one conn.
    except (ConnectorError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(counts.summary())
    for reason, n in sorted(counts.reasons.items(), key=lambda kv: -kv[1]):
        click.echo(f"  rejected {n}: {reason}")


@main.command()
@click.option("--db", help=DB_HELP)
@click.option(
    "--llm/--no-llm",
    default=None,
    help="Name themes with an LLM (default: when OPENAI_API_KEY or OPENAI_BASE_URL is set)",
)
@click.option("--min-theme-size", type=click.IntRange(2), help="Smallest theme (default: by data size)")
@click.option("--full", is_flag=True, help="Recluster everything (default: incremental when little changed)")
@click.option("--top", default=10, show_default=True, help="Rows of the ranked table to print")
def run(db: str | None, llm: bool | None, min_theme_size: int | None, full: bool, top: int) -> None:
    """Discover, name and rank themes in the stored feedback (a Prefect flow run). Theme ids stay
    stable across runs; only new text is embedded."""
    path = _db(db)
    if not db_exists(path):
        raise click.ClickException(f"{path} does not exist; run `painpoints ingest` first")
    _run_flow(path, llm, min_theme_size, top, full)


def _run_flow(path: Path, llm: bool | None, min_theme_size: int | None, top: int, full: bool = False) -> None:
    if (skipped := _skip_if_unchanged(path, llm, min_theme_size, full)) is not None:
        click.echo(f"run {skipped} skipped: {skipped_reason(path, skipped)}")
        _print(*_query(path, _top_sql(), [top]), "table")
        return
    from painpoints.flows.local_api import start_in_background

    api_ready = start_in_background()
    from painpoints.flows.discovery import discover_flow, warm_up

    warm_up(str(path))  # load the model and clustering code while the local API starts
    api_ready()
    try:
        run_id = discover_flow(db=str(path), min_theme_size=min_theme_size, llm=llm, full=full)
    except (StoreError, ConnectorError) as err:
        raise click.ClickException(str(err)) from err
    if (reason := skipped_reason(path, run_id)) is not None:  # the flow found nothing new after all
        click.echo(f"run {run_id} skipped: {reason}")
        _print(*_query(path, _top_sql(), [top]), "table")
        return
    s = _run_stats(path, run_id)
    click.echo(
        f"run {run_id} ({s.mode}: {s.mode_reason}): {s.feedback_items} items, {s.segments} segments, "
        f"{s.themes} themes ({s.themes_new} new, {s.emerging} emerging), {s.unassigned_share:.0%} unassigned"
    )
    if s.llm is not None:
        click.echo(
            f"LLM: {s.llm.requests} requests, {s.llm.cache_hits} cached, "
            f"{s.llm.tokens_in + s.llm.tokens_out} tokens (~${s.llm.cost_estimate:.4f}), "
            f"{s.llm.themes_offline} of {s.themes} themes kept offline names "
            f"({s.llm.ungrounded} LLM labels failed the grounding check)"
        )
    _print(*_query(path, _top_sql(), [top]), "table")


@main.command(context_settings={"ignore_unknown_options": True})  # SQL may start with "-- comment"
@click.argument("sql", required=False)
@click.option(
    "--file",
    "sql_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the SQL from a file, e.g. sql/examples/01_top_pain_points.sql",
)
@click.option("--db", help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def query(sql: str | None, sql_file: str | None, db: str | None, fmt: str) -> None:
    """Run a read-only SQL query, e.g. "select * from pain_points limit 10"."""
    if (sql is None) == (sql_file is None):
        raise click.UsageError("give either SQL or --file, not both")
    text = sql if sql is not None else Path(str(sql_file)).read_text()
    _print(*_query(_db(db), text), fmt)


def _skip_if_unchanged(path: Path, llm: bool | None, min_theme_size: int | None, full: bool) -> str | None:
    """The no-op check before any flow machinery starts (the Prefect API, the model): a rerun with no
    new feedback, settings or merges costs a second, and is recorded as a 'skipped' run."""
    from painpoints.discovery import runstore, store
    from painpoints.discovery.settings import load_settings, run_params

    settings = load_settings(db=path, min_theme_size=min_theme_size)
    params = run_params(settings, min_theme_size, llm, full)
    try:
        with store.connect(path, lock_wait=settings.lock_wait) as con:
            fingerprint = runstore.run_fingerprint(con, settings.fingerprint(), params)
            return store.atomic(con, lambda: runstore.skip_if_unchanged(con, params, fingerprint))
    except StoreError as err:
        raise click.ClickException(str(err)) from err


def skipped_reason(path: Path, run_id: str) -> str | None:
    """Why ``run_id`` was skipped (None when it was not)."""
    from painpoints.discovery import runstore, store

    with store.connect(path, read_only=True) as con:
        return runstore.skipped_reason(con, run_id)


def _top_sql() -> str:
    from painpoints.discovery import store

    return store.sql("top_pain_points")


def _run_stats(path: Path, run_id: str) -> RunStats:
    from painpoints.discovery import runstore, store

    with store.connect(path, read_only=True) as con:
        stats = runstore.run_stats(con, run_id)
    if stats is None:
        raise click.ClickException(f"run {run_id} finished without stats")
    return stats


def _query(path: Path, sql: str, params: list[Any] | None = None) -> tuple[list[str], list[tuple]]:
    from painpoints.discovery import store

    try:
        with store.connect(path, read_only=True) as con:
            return store.query(con, sql, params)
    except StoreError as err:
        raise click.ClickException(str(err)) from err


def _print(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        click.echo(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, ensure_ascii=False, indent=1)
        )
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_lines=False)
        for r in rows:
            table.add_row(*(_cell(v) for v in r))
        Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False).print(table)


def _cell(value: Any) -> str:
    text = "" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--out", default="painpoints-report.html", show_default=True, help="HTML file to write")
@click.option("--no-map", is_flag=True, help="Skip the theme map (saves the 2-D UMAP, ~10-30 s)")
def report(db: str | None, out: str, no_map: bool) -> None:
    """Write a self-contained HTML report (no network needed to view it) of the latest run."""
    from painpoints.discovery.report import write_report

    try:
        path = write_report(_db(db), out, with_map=not no_map)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"report: {path.resolve()}")


@main.command()
@click.option("--db", default="painpoints-demo.duckdb", show_default=True, help="Demo DuckDB file (recreated)")
def demo(db: str) -> None:
    """Load the bundled sample (reviews, tickets, chat transcripts) into a fresh DB and run discovery."""
    from painpoints.discovery.demo import load_demo
    from painpoints.discovery.settings import load_settings

    path = Path(db)
    for name, counts in load_demo(load_settings(db=path)):
        click.echo(f"{name}: {counts.summary()}")
    _run_flow(path, llm=False, min_theme_size=None, top=10)
    from painpoints.discovery.report import write_report

    report_path = write_report(path, path.with_name("painpoints-report.html"))
    click.echo(
        f"\nDatabase: {path.resolve()}\nReport:   {report_path.resolve()} (open it in a browser)\n"
        f'Query it: painpoints query "select rank, label, items, score from pain_points" --db {db}\n'
        f"          painpoints query --file sql/examples/02_top_negative_themes_this_week.sql --db {db}\n"
        f"          notebooks/explore.ipynb (PAINPOINTS_DB={db})"
    )


main.add_command(theme)
main.add_command(pull)
main.add_command(serve)
main.add_command(prune)
main.add_command(search)
main.add_command(mcp)
main.add_command(export)
main.add_command(ask)
main.add_command(ui_command)
main.add_command(push)
main.add_command(digest)


def entry() -> None:
    """The console script (and ``python -m painpoints.cli``): ``main``, then a quick exit.

    A finished command still runs every exit handler (Prefect stops its temporary API and drains its
    log and event workers) and flushes its output, but skips the interpreter's final teardown of every
    module: with torch, ONNX Runtime and Prefect loaded that took ~1.5 s per process (measured on a
    no-op nightly run, issue 22). Connections are closed by the commands themselves.
    """
    code = 0
    try:
        main()
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except BaseException:  # noqa: BLE001  (shown as Python would, then the same quick exit)
        import traceback

        traceback.print_exc()
        code = 1
    import atexit
    import threading

    # CPython's own shutdown steps, in its order: thread-exit hooks (concurrent.futures, joblib's loky
    # executor) and joining non-daemon threads, then the exit handlers
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
