"""Emerging-theme alerts to a Slack-compatible incoming webhook (a JSON POST with ``text``).

Slack, Mattermost, Rocket.Chat, Teams workflows and most chat tools accept ``{"text": ...}``; the
``blocks`` field adds Slack formatting and is ignored by the others. The webhook URL is a secret
(it embeds the token): it is read from settings as a ``SecretStr`` and never logged or stored.
"""

from __future__ import annotations

import logging
from typing import Any

from painpoints.connectors.http import RetryingClient
from painpoints.discovery import store
from painpoints.discovery.settings import Settings

log = logging.getLogger(__name__)


def run_alerts(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """The emerging themes of ``run_id`` (the ``theme_alerts`` view), read-only."""
    with store.connect(settings.db, read_only=True) as con:
        cols, rows = store.query(con, store.sql("run_alerts"), [run_id])
    return [dict(zip(cols, r, strict=True)) for r in rows]


def notify(settings: Settings, run_id: str, logger: logging.Logger | logging.LoggerAdapter = log) -> int:
    """Send this run's emerging themes to ``alert_webhook``; returns how many were sent. A failed
    webhook is logged to ``logger`` (the flow passes Prefect's run logger, so it shows in the run's
    log), not raised: the run's results are already committed and the alerts stay in ``theme_alerts``."""
    if settings.alert_webhook is None:
        return 0
    found = run_alerts(settings, run_id)
    if not found:
        return 0
    try:
        send(settings.alert_webhook.get_secret_value(), found, run_id)
    except Exception as err:  # noqa: BLE001 (reported, never raised: see docstring)
        logger.error("alert webhook failed: %s", type(err).__name__ + ": " + str(err)[:200])
        return 0
    return len(found)


def notify_failure(settings: Settings, run_name: str, message: str) -> bool:
    """Tell ``alert_webhook`` that a nightly run failed (the flow's on_failure hook); False when no
    webhook is set or it fails too (logged, never raised: the failure itself is what matters)."""
    if settings.alert_webhook is None:
        return False
    text = f"painpoints: nightly run {run_name} failed: {message[:300]}".strip()
    try:
        post(settings.alert_webhook.get_secret_value(), {"text": text}, max_retries=2)
    except Exception as err:  # noqa: BLE001 (reported, never raised)
        log.error("failure webhook failed: %s", type(err).__name__ + ": " + str(err)[:200])
        return False
    return True


def payload(alerts: list[dict[str, Any]], run_id: str, report_url: str | None = None) -> dict[str, Any]:
    """The message for this run's emerging themes."""
    lines = []
    for a in alerts:
        why = (
            f"new theme, {a['recent_items']} items this period"
            if a["reason"] == "new"
            else f"{a['recent_items']} items this period, {_growth(a['growth'])} over baseline (z = {a['zscore']:.1f})"
        )
        lines.append(f"• *{a['label']}* ({a['theme_id']}): {why}; {a['negative_share']:.0%} negative")
    head = f"painpoints: {len(alerts)} emerging theme{'s' if len(alerts) != 1 else ''} in run {run_id}"
    text = "\n".join([head, *lines] + ([f"Report: {report_url}"] if report_url else []))
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def _growth(g: float | None) -> str:
    return "up from nothing" if g is None else f"{g:+.0%}"


def send(url: str, alerts: list[dict[str, Any]], run_id: str, max_retries: int = 4) -> bool:
    """POST the alerts (nothing when there are none); retries 429/5xx. Returns whether it sent."""
    if not alerts:
        return False
    post(url, payload(alerts, run_id), max_retries)
    return True


def post(url: str, message: dict[str, Any], max_retries: int = 4) -> None:
    """POST one Slack-compatible message (``text``, optional ``blocks``) to the webhook, retrying
    429/5xx: the one webhook client of alerts and the weekly digest (discovery/digest.py). An error
    names "the webhook", never its URL: the URL is the secret."""
    with RetryingClient(max_retries=max_retries, timeout=15.0, name="the webhook") as client:
        client.post_json(url, message)
