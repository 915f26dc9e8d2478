"""Emerging-theme alerts to a Slack-compatible incoming webhook (a JSON POST with ``text``).

Slack, Mattermost, Rocket.Chat, Teams workflows and most chat tools accept ``{"text": ...}``; the
``blocks`` field adds Slack formatting and is ignored by the others. The webhook URL is a secret
(it embeds the token): it is read from settings as a ``SecretStr`` and never logged or stored.
"""

from __future__ import annotations

from typing import Any

from connectors.http import RetryingClient

ALERT_SQL = ("SELECT theme_id, label, reason, recent_items, growth, zscore, negative_share, example_quotes "
             "FROM theme_alerts WHERE run_id = ? ORDER BY (reason = 'spike') DESC, zscore DESC, rank")


def payload(alerts: list[dict[str, Any]], run_id: str, report_url: str | None = None) -> dict[str, Any]:
    """The message for this run's emerging themes."""
    lines = []
    for a in alerts:
        why = (f"new theme, {a['recent_items']} items this period" if a["reason"] == "new" else
               f"{a['recent_items']} items this period, {_growth(a['growth'])} over baseline (z = {a['zscore']:.1f})")
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
    with RetryingClient(max_retries=max_retries, timeout=15.0) as client:
        client.post_json(url, payload(alerts, run_id))
    return True
