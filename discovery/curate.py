"""PM curation that shows at once (issue 19): record the action for every later run, and change the
latest run's views now where that needs no recomputation.

``rename``, ``hide``/``unhide``, ``pin``/``unpin`` and ``move`` change one theme's row of the latest
snapshot in the same transaction that records them, exactly as the next run will (it reads the
curation table again), so ``pain_points`` and the other views answer with the change at once and after
every rerun. ``merge`` and ``split`` move items between themes and need the run's measures recomputed:
they are recorded and pending until the next run (``painpoints run``; the web app can start one).
``preview`` says in words what an action will change, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from painpoints.discovery import runstore
from painpoints.discovery.store import StoreError, sql, transaction

LIVE = frozenset({"rename", "hide", "unhide", "pin", "unpin", "move"})
PENDING = frozenset({"merge", "split"})
ACTIONS = LIVE | PENDING


@dataclass(frozen=True)
class Facts:
    """A theme as the latest run shows it (what a preview talks about)."""

    theme_id: str
    label: str
    items: int
    theme_type: str
    area_id: str | None
    area_label: str | None
    hidden: bool
    pinned: bool

    @property
    def name(self) -> str:
        return f'{self.theme_id} "{self.label}" ({self.items} items)'


def facts(con: duckdb.DuckDBPyConnection, theme_id: str) -> Facts:
    rows = con.execute(sql("curate_theme_facts"), [theme_id]).fetchall()
    if not rows:
        raise StoreError(f"no theme {theme_id!r} in the latest run")
    return Facts(*rows[0])


def _check(con: duckdb.DuckDBPyConnection, action: str, theme_id: str, target: str | None, value: str | None) -> None:
    if action not in ACTIONS:
        raise StoreError(f"unknown curation action {action!r}: choose from {', '.join(sorted(ACTIONS))}")
    if action == "rename" and not (value or "").strip():
        raise StoreError("the new label must not be empty")
    if action == "split" and not (value or "").isdigit():
        raise StoreError("split needs a number of parts (2-10)")
    if action == "split" and not 2 <= int(value or 0) <= 10:
        raise StoreError("split needs 2 to 10 parts")
    runstore.check_curation(con, action, theme_id, target, value)


def preview(
    con: duckdb.DuckDBPyConnection, action: str, theme_id: str, target: str | None = None, value: str | None = None
) -> list[str]:
    """What ``action`` will change, in sentences, without writing; ``StoreError`` when it would be refused."""
    _check(con, action, theme_id, target, value)
    t = facts(con, theme_id)
    when = "now, and every later run keeps it"
    if action == "rename":
        return [
            f'{t.theme_id} "{t.label}" is called "{(value or "").strip()}" {when}; no LLM or offline naming changes it.'
        ]
    if action == "hide":
        return [
            f"{t.name} leaves pain_points, feature_requests, praise, latest_themes and alerts {when}.",
            "Its items keep their theme in feedback_themes; `unhide` brings it back.",
        ]
    if action == "unhide":
        return [f"{t.name} shows again in the views {when}."]
    if action in ("pin", "unpin"):
        verb = "is pinned" if action == "pin" else "is no longer pinned"
        return [f"{t.name} {verb} {when}: a full recluster that loses a pinned theme gives its members back to it."]
    if action == "move":
        area = con.execute("SELECT label FROM areas WHERE area_id = ?", [value]).fetchall()[0][0]
        return [f'{t.name} moves from area {t.area_id} "{t.area_label}" to {value} "{area}" {when}.']
    if action == "merge":
        into = facts(con, str(target))
        return [
            f"{t.name} merges into {into.name}: about {t.items + into.items} items under "
            f'"{into.label}"; {t.theme_id} disappears from the views.',
            "Pending: the next run applies it (and every run after keeps it).",
        ]
    return [
        f"{t.name} is cut into {value} new themes (k-means on its members' embeddings), once.",
        "Pending: the next run applies it.",
    ]


def curate(
    con: duckdb.DuckDBPyConnection,
    action: str,
    theme_id: str,
    target: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> tuple[str, bool]:
    """Record ``action`` and, for the live ones, apply it to the latest run's views in the same
    transaction; returns ``(curation_id, live)``."""
    _check(con, action, theme_id, target, value)
    value = value.strip()[:120] if action == "rename" and value else value
    with transaction(con):
        cid = runstore.add_curation(con, action, theme_id, target, value, note)
        if action in LIVE:
            statement = sql(f"curate_{action}")
            con.execute(statement, {"theme": theme_id} | ({"value": value} if "$value" in statement else {}))
    return cid, action in LIVE


def log(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[tuple]:
    """The audit log, newest first: created_at, action, theme_id, target_theme_id, value, note,
    applied_run, curation_id."""
    return con.execute(sql("curation_log"), [limit]).fetchall()
