"""``painpoints theme …``: PM curation that survives reruns. Each command records one row in the
``curation`` table (every later ``painpoints run`` applies it); rename, hide, pin and move also show in
the views at once, merge and split at the next run (``discovery.curate``)."""

from __future__ import annotations

import click

from painpoints.discovery.store import StoreError
from painpoints.discovery.store import exists as db_exists

DB_HELP = "DuckDB file (default: $PAINPOINTS_DB, else ./painpoints.duckdb)"
THEME = click.argument("theme_id")
NOTE = click.option("--note", help="Why, for the curation log")


def _curate(
    db: str | None,
    action: str,
    theme_id: str,
    target: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> None:
    from painpoints.discovery import store
    from painpoints.discovery.curate import curate
    from painpoints.discovery.settings import load_settings

    settings = load_settings(db=db)
    if not db_exists(settings.db):
        raise click.ClickException(f"{settings.db} does not exist; run `painpoints ingest` and `painpoints run` first")
    try:
        with store.connect(settings.db, lock_wait=settings.lock_wait) as con:
            _, live = curate(con, action, theme_id, target, value, note)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"recorded: {action} {theme_id}{' → ' + target if target else ''}{' ' + repr(value) if value else ''}; "
        + ("in the views now, and kept by every later run" if live else "the next `painpoints run` applies it")
    )


@click.group()
def theme() -> None:
    """Curate themes: rename, hide, pin, move to an area (shown at once), merge, split (at the next run)."""


@theme.command()
@THEME
@click.argument("label")
@NOTE
@click.option("--db", help=DB_HELP)
def rename(theme_id: str, label: str, note: str | None, db: str | None) -> None:
    """Give THEME_ID the label LABEL for good (LLM and offline naming never change it)."""
    if not label.strip():
        raise click.UsageError("the label must not be empty")
    _curate(db, "rename", theme_id, value=label.strip()[:120], note=note)


@theme.command()
@THEME
@click.argument("into_theme_id")
@NOTE
@click.option("--db", help=DB_HELP)
def merge(theme_id: str, into_theme_id: str, note: str | None, db: str | None) -> None:
    """Merge THEME_ID into INTO_THEME_ID; items that would land in THEME_ID land in INTO_THEME_ID."""
    _curate(db, "merge", theme_id, target=into_theme_id, note=note)


@theme.command()
@THEME
@click.option("--parts", type=click.IntRange(2, 10), default=2, show_default=True)
@NOTE
@click.option("--db", help=DB_HELP)
def split(theme_id: str, parts: int, note: str | None, db: str | None) -> None:
    """Cut THEME_ID into PARTS new themes (k-means on its members' embeddings), once."""
    _curate(db, "split", theme_id, value=str(parts), note=note)


@theme.command()
@THEME
@click.option("--off", is_flag=True, help="Unpin")
@NOTE
@click.option("--db", help=DB_HELP)
def pin(theme_id: str, off: bool, note: str | None, db: str | None) -> None:
    """Keep THEME_ID alive: a full recluster that loses it gives its members back to it."""
    _curate(db, "unpin" if off else "pin", theme_id, note=note)


@theme.command()
@THEME
@click.option("--off", is_flag=True, help="Show it again")
@NOTE
@click.option("--db", help=DB_HELP)
def hide(theme_id: str, off: bool, note: str | None, db: str | None) -> None:
    """Leave THEME_ID out of pain_points and alerts (its items keep their theme in feedback_themes)."""
    _curate(db, "unhide" if off else "hide", theme_id, note=note)


@theme.command()
@THEME
@click.argument("area_id")
@NOTE
@click.option("--db", help=DB_HELP)
def move(theme_id: str, area_id: str, note: str | None, db: str | None) -> None:
    """Put THEME_ID under the area AREA_ID for good (see the theme_areas view), whatever grouping finds."""
    _curate(db, "move", theme_id, value=area_id.strip(), note=note)
