"""``painpoints push`` and ``painpoints digest``: a theme out to Jira/Linear, the week out to chat.

Thin: each command calls one library function (``painpoints.push``, ``discovery.digest``) and turns
its domain errors into one-line ``click`` errors.
"""

from __future__ import annotations

import json

import click

from painpoints.cli_theme import DB_HELP


@click.command()
@click.argument("theme_id")
@click.option("--to", "target", type=click.Choice(["jira", "linear"]), required=True, help="Tracker to file it in")
@click.option("--project", help="Jira project key, e.g. ENG (default: jira_project)")
@click.option("--team", help="Linear team key, e.g. ENG, or id (default: linear_team)")
@click.option("--db", help=DB_HELP)
@click.option("--quotes", default=10, show_default=True, type=click.IntRange(1, 100), help="Quotes in the body")
@click.option("--again", is_flag=True, help="File another issue even if the theme was pushed there before")
@click.option("--dry-run", is_flag=True, help="Print the issue (and --json the request) without sending it")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the exact JSON request body")
def push(
    theme_id: str,
    target: str,
    project: str | None,
    team: str | None,
    db: str | None,
    quotes: int,
    again: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """File a theme as a Jira or Linear issue: its problem statement, size, trend, area and quotes with
    their feedback ids. Credentials from the environment: JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN or
    LINEAR_API_KEY. A theme already pushed to that tracker is not filed twice (--again does)."""
    from painpoints.cli_workspace import _workspace
    from painpoints.discovery.store import StoreError
    from painpoints.push import PushError, already_pushed, plan_push, push_theme

    ws = _workspace(db)
    try:
        if dry_run:
            plan = plan_push(ws, theme_id, target, project, team, quotes)
            prior = already_pushed(ws, theme_id, target)
            if as_json:
                click.echo(json.dumps(plan.payload, indent=1, ensure_ascii=False))
                return
            where = plan.destination or "(no project/team given)"
            click.echo(
                f"Would POST {plan.endpoint} ({target}, {where}):\n\n{plan.issue.title}\n\n{plan.issue.markdown}"
            )
            if prior:
                click.echo(f"(already pushed as {prior.key}: pushing needs --again)")
            return
        pushed = push_theme(ws, theme_id, target, project, team, again=again, quotes=quotes)
    except (PushError, LookupError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    if pushed.created:
        click.echo(f"{theme_id} pushed to {target} as {pushed.key}: {pushed.url or ''}".rstrip(": "))
    else:
        click.echo(
            f"{theme_id} already pushed to {target} as {pushed.key} ({pushed.url or 'no url'}) "
            f"on {pushed.pushed_at}; --again files another"
        )


@click.command()
@click.option("--db", help=DB_HELP)
@click.option("--dry-run", is_flag=True, help="Print the digest instead of posting it")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the webhook's JSON (Slack blocks)")
@click.option("--again", is_flag=True, help="Post even if this week's digest was sent")
def digest(db: str | None, dry_run: bool, as_json: bool, again: bool) -> None:
    """Post this week's digest (top pain points, new and emerging themes, top feature requests, praise;
    counts and trend) to the Slack-compatible alert_webhook. The nightly flow sends it by itself on
    digest_weekday; a week gets one unless --again."""
    from painpoints.connectors.http import HttpError
    from painpoints.discovery.digest import DigestError, send_digest
    from painpoints.discovery.settings import load_settings
    from painpoints.discovery.store import StoreError
    from painpoints.discovery.store import exists as db_exists

    settings = load_settings(db=db)
    if not db_exists(settings.db):
        raise click.ClickException(f"no painpoints database at {settings.db}: ingest and run first")
    try:
        done = send_digest(settings, again=again, dry_run=dry_run)
    except (DigestError, HttpError, StoreError) as err:
        raise click.ClickException(str(err)) from err
    if dry_run and done.digest is not None:
        click.echo(json.dumps(done.digest.payload(), indent=1, ensure_ascii=False) if as_json else done.digest.text())
    elif done.sent:
        click.echo(f"digest for the week of {done.week} sent ({done.themes} themes)")
    else:
        click.echo(f"digest for the week of {done.week} already sent ({done.already}); --again sends it again")
