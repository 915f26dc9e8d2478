"""The weekly digest: the week's top pain points, new and emerging themes, top feature requests and
praise, with counts and trend, posted to the Slack-compatible ``alert_webhook``.

Alerts say "something changed tonight"; the digest is the Monday-morning summary a PM forwards. It
reads the public views of the latest successful run (what ``painpoints query`` would show), lists the
issue a theme was pushed as (``painpoints push``) beside it, and is recorded per week in ``digests`` so
the nightly flow sends it on ``digest_weekday`` once, however many runs that day has. Posting reuses
``alerts.post`` (one webhook client, retries on 429/5xx); the webhook URL is never logged or stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from painpoints.discovery import alerts, store
from painpoints.discovery.settings import WEEKDAYS, Settings

log = logging.getLogger(__name__)
SECTION_LIMIT = 2900  # Slack rejects a section text over 3000 characters


class DigestError(RuntimeError):
    """Nothing to summarise yet, or nowhere to send it."""


@dataclass
class Digest:
    """One week's digest: ``sections`` are (heading, lines of Slack mrkdwn)."""

    week: date
    run_id: str
    feedback_items: int
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def themes(self) -> int:
        return sum(len(lines) for _, lines in self.sections)

    def text(self) -> str:
        """The whole digest as mrkdwn: the webhook's ``text`` (what non-Slack tools and notifications
        show) and what ``--dry-run`` prints."""
        parts = [f"*painpoints weekly digest, week of {self.week:%d %b %Y}*"]
        for title, lines in self.sections:
            parts.append(f"*{title}*\n" + ("\n".join(lines) if lines else "_none_"))
        parts.append(f"_run {self.run_id}, {self.feedback_items:,} feedback items_")
        return "\n\n".join(parts)

    def payload(self) -> dict[str, Any]:
        """A Slack message: ``text`` plus ``blocks`` (header, one section per list, context)."""
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": f"painpoints weekly digest, week of {self.week:%d %b %Y}"},
            }
        ]
        for title, lines in self.sections:
            body = f"*{title}*\n" + ("\n".join(lines) if lines else "_none_")
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, SECTION_LIMIT)}})
        footer = f"run {self.run_id} · {self.feedback_items:,} feedback items"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
        return {"text": self.text(), "blocks": blocks}


@dataclass(frozen=True)
class Sent:
    """What ``send_digest`` did: ``sent`` False with ``already`` set when the week had one."""

    week: date
    sent: bool
    themes: int = 0
    already: str | None = None  # when the week's digest went out before
    digest: Digest | None = None


def week_of(today: date, weekday: str | None) -> date:
    """The first day of the digest week holding ``today``: the latest ``weekday`` on or before it
    (Monday when the digest has no weekday)."""
    wd = WEEKDAYS.index(weekday or "monday")
    return today - timedelta(days=(today.weekday() - wd) % 7)


def local_today(settings: Settings) -> date:
    """Today where the schedule lives (``schedule_timezone``): a 02:00 Berlin run is Monday's run."""
    return datetime.now(ZoneInfo(settings.schedule_timezone)).date()


def compose(settings: Settings, today: date | None = None) -> Digest:
    """The digest of the latest successful run; ``DigestError`` when there is none."""
    today = today or local_today(settings)
    top = settings.digest_top
    since = store.utc_now() - timedelta(days=7)
    with store.connect(settings.db, read_only=True, lock_wait=settings.lock_wait) as con:
        run = con.execute(store.sql("digest_run")).fetchone()
        if run is None:
            raise DigestError("no successful run yet: `painpoints run` first")

        def rows(name: str, **params: Any) -> list[dict[str, Any]]:
            cur = con.execute(store.sql(name), params)
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        issues = {r["theme_id"]: r["issue_key"] for r in rows("digest_issues")}
        pains = rows("digest_pains", top=top)
        emerging = rows("digest_emerging", top=top, since=since)
        requests = rows("digest_requests", top=top)
        praise = rows("digest_praise", top=top)
    digest = Digest(week_of(today, settings.digest_weekday), str(run[0]), int(run[2]))
    digest.sections = [
        ("Top pain points", [_line(i, r, issues) for i, r in enumerate(pains, 1)]),
        ("New and emerging", [_emerging(r, issues) for r in emerging]),
        ("Top feature requests", [_line(i, r, issues) for i, r in enumerate(requests, 1)]),
        ("Praise", [_line(i, r, issues) for i, r in enumerate(praise, 1)]),
    ]
    return digest


def _line(n: int, r: dict[str, Any], issues: dict[str, str]) -> str:
    parts = [f"{r['items']} items", f"{r['negative_share']:.0%} negative"]
    if r.get("trend") is not None:
        recent = f", {r['trend_recent']} recent" if r.get("trend_recent") is not None else ""
        parts.append(f"trend {r['trend']:+.0%}{recent}")
    return f"{n}. *{_esc(r['label'])}* ({r['theme_id']}): {', '.join(parts)}{_issue(r, issues)}"


def _emerging(r: dict[str, Any], issues: dict[str, str]) -> str:
    why = "new theme" if r["reason"] == "new" else "spiking"
    recent = f", {r['recent_items']} this period" if r.get("recent_items") is not None else ""
    kind = f" [{r['theme_type']}]" if r.get("theme_type") not in (None, "problem") else ""
    return (
        f"• *{_esc(r['label'])}* ({r['theme_id']}){kind}: {why}{recent}, {r['items']} items, "
        f"{r['negative_share']:.0%} negative{_issue(r, issues)}"
    )


def _issue(r: dict[str, Any], issues: dict[str, str]) -> str:
    key = issues.get(r["theme_id"])
    return f" → {key}" if key else ""


def _esc(text: Any) -> str:
    """Slack mrkdwn control characters in a label (``&``, ``<``, ``>``) escaped, as Slack asks."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sent_before(settings: Settings, week: date) -> str | None:
    """When (and by what) the digest of ``week`` was sent, or None."""
    with store.connect(settings.db, read_only=True, lock_wait=settings.lock_wait) as con:
        row = con.execute(store.sql("digest_sent"), {"week": week}).fetchone()
    return f"{row[0]:%Y-%m-%d %H:%M} UTC by {row[1]}" if row else None


def send_digest(
    settings: Settings,
    today: date | None = None,
    sent_by: str = "cli",
    again: bool = False,
    dry_run: bool = False,
    max_retries: int = 4,
) -> Sent:
    """Compose this week's digest and post it to ``alert_webhook`` unless the week had one (or
    ``again``); record it. ``dry_run`` composes only. Raises ``DigestError`` and ``HttpError``."""
    today = today or local_today(settings)
    week = week_of(today, settings.digest_weekday)
    already = sent_before(settings, week)
    digest = compose(settings, today)
    if dry_run or (already and not again):
        return Sent(week, False, digest.themes, already, digest)
    if settings.alert_webhook is None:
        raise DigestError("no alert_webhook set (PAINPOINTS_ALERT_WEBHOOK or painpoints.toml)")
    alerts.post(settings.alert_webhook.get_secret_value(), digest.payload(), max_retries=max_retries)
    params = {"week": week, "now": store.utc_now(), "run": digest.run_id, "themes": digest.themes, "by": sent_by}
    with store.connect(settings.db, lock_wait=settings.lock_wait) as con:
        con.execute(store.sql("record_digest"), params)
    return Sent(week, True, digest.themes, already, digest)


def send_weekly(
    settings: Settings, today: date | None = None, logger: logging.Logger | logging.LoggerAdapter = log
) -> bool:
    """The nightly flow's step: on ``digest_weekday`` (in ``schedule_timezone``), send the week's
    digest once. A failed webhook is logged, not raised (the run's results are committed; the next
    run that day tries again, since only a sent digest is recorded)."""
    if settings.alert_webhook is None or settings.digest_weekday is None:
        return False
    today = today or local_today(settings)
    if WEEKDAYS[today.weekday()] != settings.digest_weekday:
        return False
    try:
        done = send_digest(settings, today, sent_by="nightly")
    except Exception as err:  # noqa: BLE001 (reported, never raised: see docstring)
        logger.error("weekly digest failed: %s", type(err).__name__ + ": " + str(err)[:200])
        return False
    if done.sent:
        logger.info("weekly digest for the week of %s sent (%d themes)", done.week, done.themes)
    return done.sent
