"""``painpoints export THEME_ID``: one theme, ready to paste where a team plans work (issue 20).

``md`` is a ticket body: the theme's label as a title, what it is and how big, its trend with the
counts behind it, and every quote with the item it comes from (source and external id), most negative
first. ``csv`` is every segment of the theme with its ids, for a spreadsheet. Both read the latest run
through ``Workspace`` (read-only).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from painpoints.workspace import Workspace

PAGE = 500
CSV_COLUMNS = ("feedback_id", "external_id", "source", "created_at", "sentiment", "feedback_type", "text")


def theme_segments(ws: Workspace, theme_id: str) -> list[dict[str, Any]]:
    """Every segment of the theme, most negative first, read page by page."""
    out: list[dict[str, Any]] = []
    page = 0
    while batch := ws.segments(theme_id, page, PAGE):
        out += batch
        page += 1
    return out


def export_theme(ws: Workspace, theme_id: str, fmt: str = "md", quotes: int = 20) -> str:
    """The theme as Markdown (a ticket body, ``quotes`` quotes) or CSV (every segment); ``LookupError``
    for a theme the latest run does not have."""
    theme = ws.theme(theme_id)
    if theme is None:
        raise LookupError(f"no theme {theme_id!r} in the latest run (ids look like T001; see `painpoints query`)")
    segments = theme_segments(ws, theme_id)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(segments)
        return buf.getvalue()
    if fmt != "md":
        raise ValueError(f"unknown format {fmt!r}: md or csv")
    return markdown(theme, segments[:quotes], len(segments))


def markdown(theme: dict[str, Any], quotes: list[dict[str, Any]], total: int) -> str:
    trend = theme.get("trend")
    trend_line = (
        f"{trend:+.0%} ({theme.get('trend_recent')} segments in the recent window, "
        f"{theme.get('trend_expected')} expected from its earlier share)"
        if trend is not None
        else "not enough dated items for a trend"
    )
    lines = [
        f"# {theme['label']} ({theme['theme_id']})",
        "",
        theme.get("description") or "",
        "",
        f"- **Size:** {theme['items']} segments from {theme.get('feedback_items')} items "
        f"({theme['share']:.1%} of all feedback), {theme['negative_share']:.0%} negative",
        f"- **Type:** {theme.get('theme_type')} · **area:** {theme.get('area_label') or '–'}",
        f"- **Trend:** {trend_line}",
        f"- **Sources:** {', '.join(theme.get('sources') or [])}",
        "",
        f"## What customers say ({len(quotes)} of {total}, most negative first)",
        "",
    ]
    for q in quotes:
        when = f", {str(q['created_at'])[:10]}" if q.get("created_at") else ""
        text = " ".join(str(q["text"]).split())
        lines.append(f"> {text}\n>\n> — {q['source']} `{q['external_id']}`{when}\n")
    lines.append(f"_Exported from painpoints, run {theme.get('run_id') or 'latest'}._")
    return "\n".join(lines) + "\n"
