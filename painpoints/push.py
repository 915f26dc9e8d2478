"""``painpoints push THEME_ID --to jira|linear``: a theme filed as an issue where the team plans work.

The issue body is ``painpoints export``'s Markdown (problem statement, size, trend with its counts,
area, sources, quotes with the feedback ids they come from) — one renderer, so an exported ticket and
a pushed one say the same. Linear takes Markdown as it is; Jira Cloud's v3 API wants Atlassian
Document Format, converted by ``painpoints/adf.py``.

Pushing is idempotent per theme and tracker: the created issue's key and URL are recorded in
``theme_issues``, and a second push of the same theme says "already pushed as KEY" unless ``again``.
HTTP goes through ``connectors.http.RetryingClient`` (429 honouring ``Retry-After``, 5xx and timeouts
retried with backoff); a 400/401/403 fails at once with the tracker's own message on one line.
Credentials come from the environment only (``JIRA_EMAIL``/``JIRA_API_TOKEN``, ``LINEAR_API_KEY``) and
never appear in errors, logs or the database.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from painpoints import adf
from painpoints.connectors.http import HttpError, RetryingClient
from painpoints.discovery import store
from painpoints.export import export_theme
from painpoints.workspace import Workspace

TARGETS = ("jira", "linear")
JIRA_ISSUE_PATH = "/rest/api/3/issue"
LINEAR_MUTATION = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) {
    success
    issue { id identifier url title }
  }
}"""
LINEAR_TEAM_QUERY = """query TeamByKey($key: String!) {
  teams(filter: { key: { eqIgnoreCase: $key } }) { nodes { id key name } }
}"""
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
TITLE_PREFIX = {"problem": "Pain point: ", "request": "Feature request: ", "praise": "Praise: "}


class PushError(RuntimeError):
    """A push that cannot be done or failed; the message is one line a person can act on."""


@dataclass(frozen=True)
class Issue:
    """What gets filed: a title and a Markdown body, and the theme they describe."""

    theme_id: str
    title: str
    markdown: str
    label: str
    run_id: str | None


@dataclass(frozen=True)
class Plan:
    """One push, ready to send: where to (``endpoint``, ``destination`` = Jira project / Linear team)
    and the exact JSON body. ``--dry-run`` shows it; nothing in it is secret."""

    target: str
    endpoint: str
    destination: str | None
    issue: Issue
    payload: dict[str, Any]


@dataclass(frozen=True)
class Pushed:
    """An issue a theme was filed as; ``created`` is False when it had been pushed before."""

    target: str
    key: str
    url: str | None
    created: bool
    pushed_at: str | None = None


def theme_issue(ws: Workspace, theme_id: str, quotes: int = 10) -> Issue:
    """The theme as an issue: ``Pain point: <label>`` (or feature request / praise) and the export's
    Markdown without its first heading (the title says it). ``LookupError`` for an unknown theme."""
    body = export_theme(ws, theme_id, "md", quotes)
    theme = ws.theme(theme_id) or {}
    label = str(theme.get("label") or theme_id)
    title = TITLE_PREFIX.get(str(theme.get("theme_type")), "") + label
    lines = body.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    markdown = "\n".join(lines).strip() + "\n"
    return Issue(theme_id, title[:250], markdown, label, theme.get("run_id"))


def plan_push(
    ws: Workspace,
    theme_id: str,
    target: str,
    project: str | None = None,
    team: str | None = None,
    quotes: int = 10,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """The request that would file ``theme_id`` in ``target``; reads the database, sends nothing.
    ``project``/``team`` default to the ``jira_project``/``linear_team`` settings."""
    env = os.environ if env is None else env
    issue = theme_issue(ws, theme_id, quotes)
    s = ws.settings
    if target == "jira":
        project = project or s.jira_project
        base = (s.jira_url or env.get("JIRA_URL") or "$JIRA_URL").rstrip("/")
        fields = {
            "project": {"key": project},
            "issuetype": {"name": s.jira_issue_type},
            "summary": issue.title,
            "description": adf.document(issue.markdown),
        }
        return Plan(target, base + JIRA_ISSUE_PATH, project, issue, {"fields": fields})
    if target == "linear":
        team = team or s.linear_team
        variables = {"input": {"teamId": team, "title": issue.title, "description": issue.markdown}}
        return Plan(target, s.linear_url, team, issue, {"query": LINEAR_MUTATION, "variables": variables})
    raise PushError(f"unknown target {target!r}: {' or '.join(TARGETS)}")


def already_pushed(ws: Workspace, theme_id: str, target: str) -> Pushed | None:
    """The latest issue ``theme_id`` was pushed to ``target`` as, if any."""
    with ws.read() as con:
        row = con.execute(store.sql("pushed_issue"), {"theme": theme_id, "target": target}).fetchone()
    if row is None:
        return None
    key, url, _project, pushed_at = row
    return Pushed(target, key, url, created=False, pushed_at=str(pushed_at)[:16])


def push_theme(
    ws: Workspace,
    theme_id: str,
    target: str,
    project: str | None = None,
    team: str | None = None,
    again: bool = False,
    quotes: int = 10,
    env: Mapping[str, str] | None = None,
    max_retries: int = 5,
) -> Pushed:
    """File ``theme_id`` in ``target`` (unless it was pushed there before and not ``again``) and
    record the issue. Raises ``PushError`` (missing settings or credentials, the tracker refusing)
    and ``LookupError`` (no such theme)."""
    if target not in TARGETS:
        raise PushError(f"unknown target {target!r}: {' or '.join(TARGETS)}")
    if not again and (prior := already_pushed(ws, theme_id, target)) is not None:
        return prior
    plan = plan_push(ws, theme_id, target, project, team, quotes, env)
    pushed = send(plan, env, max_retries)
    record(ws, plan, pushed)
    return pushed


def send(plan: Plan, env: Mapping[str, str] | None = None, max_retries: int = 5) -> Pushed:
    """POST the plan to its tracker; the created issue's key and URL."""
    env = os.environ if env is None else env
    if not plan.destination:
        flag = "--project KEY (or jira_project)" if plan.target == "jira" else "--team ID (or linear_team)"
        raise PushError(f"{plan.target}: say where to file the issue: {flag}")
    try:
        return _jira(plan, env, max_retries) if plan.target == "jira" else _linear(plan, env, max_retries)
    except HttpError as err:
        raise PushError(error_message(plan.target, err)) from None


def _jira(plan: Plan, env: Mapping[str, str], max_retries: int) -> Pushed:
    if not plan.endpoint.startswith(("http://", "https://")):
        raise PushError("jira: no site: set JIRA_URL (or jira_url), e.g. https://acme.atlassian.net")
    email, token = env.get("JIRA_EMAIL"), env.get("JIRA_API_TOKEN")
    if not (email and token):
        raise PushError("jira: set JIRA_EMAIL and JIRA_API_TOKEN (an API token from id.atlassian.com)")
    with RetryingClient(auth=(email, token), headers={"Accept": "application/json"}, max_retries=max_retries) as client:
        data = _json(client.post_json(plan.endpoint, plan.payload).text)
    key = data.get("key")
    if not key:
        raise PushError(f"jira: the response names no issue key: {_short(json.dumps(data))}")
    site = plan.endpoint[: -len(JIRA_ISSUE_PATH)]
    return Pushed("jira", str(key), f"{site}/browse/{key}", created=True)


def _linear(plan: Plan, env: Mapping[str, str], max_retries: int) -> Pushed:
    api_key = env.get("LINEAR_API_KEY")
    if not api_key:
        raise PushError("linear: set LINEAR_API_KEY (a personal API key from Linear's Security & access settings)")
    payload = plan.payload
    # personal API keys go as they are; an OAuth token is given with its "Bearer " prefix
    with RetryingClient(headers={"Authorization": api_key}, max_retries=max_retries) as client:
        team = str(plan.destination)
        if not UUID.match(team):  # a team key (ENG), as people know teams: its id first
            team = _linear_team_id(client, plan.endpoint, team)
            payload = {**payload, "variables": {"input": {**payload["variables"]["input"], "teamId": team}}}
        data = _json(client.post_json(plan.endpoint, payload).text)
    if data.get("errors"):  # GraphQL reports failures with HTTP 200 too
        raise PushError(f"linear: {graphql_errors(data)}")
    created = ((data.get("data") or {}).get("issueCreate")) or {}
    issue = created.get("issue") or {}
    if not created.get("success") or not issue.get("identifier"):
        raise PushError(f"linear: issueCreate did not succeed: {_short(json.dumps(data))}")
    return Pushed("linear", str(issue["identifier"]), issue.get("url"), created=True)


def _linear_team_id(client: RetryingClient, endpoint: str, key: str) -> str:
    """The id of the Linear team whose key is ``key`` (case-insensitive)."""
    data = _json(client.post_json(endpoint, {"query": LINEAR_TEAM_QUERY, "variables": {"key": key}}).text)
    if data.get("errors"):
        raise PushError(f"linear: {graphql_errors(data)}")
    nodes = (((data.get("data") or {}).get("teams")) or {}).get("nodes") or []
    if not nodes:
        raise PushError(f"linear: no team with key {key!r} (give its key, e.g. ENG, or its id)")
    return str(nodes[0]["id"])


def record(ws: Workspace, plan: Plan, pushed: Pushed) -> None:
    """Remember the issue (``theme_issues``). When the database cannot be written (a nightly run holding
    it past ``lock_wait``) the issue exists anyway: the error names it so nobody files it twice."""
    params = {
        "theme": plan.issue.theme_id,
        "target": pushed.target,
        "key": pushed.key,
        "url": pushed.url,
        "project": plan.destination,
        "label": plan.issue.label,
        "run": plan.issue.run_id,
        "now": store.utc_now(),
    }
    try:
        with store.connect(ws.db, lock_wait=ws.settings.lock_wait) as con:
            con.execute(store.sql("record_issue"), params)
    except store.StoreError as err:
        raise PushError(f"created {pushed.key} ({pushed.url}) but could not record it: {err}") from None


def error_message(target: str, err: HttpError) -> str:
    """One line: the tracker, the status and what the tracker said (Jira's ``errorMessages`` and
    per-field ``errors``, GraphQL ``errors[].message``), with a hint for the usual causes."""
    said = _api_said(err.body or "")
    hint = {
        401: f" (check {'JIRA_EMAIL / JIRA_API_TOKEN' if target == 'jira' else 'LINEAR_API_KEY'})",
        403: " (the account may not create issues there)",
    }.get(err.status or 0, "")
    status = f"HTTP {err.status}" if err.status else str(err)
    return f"{target}: {status}{': ' + said if said else ''}{hint}"


def _api_said(body: str) -> str:
    data = _json(body)
    if not data:  # text or HTML: its first words
        return _short(re.sub(r"<[^>]+>", " ", body))
    if data.get("errors") and isinstance(data["errors"], list):
        return graphql_errors(data)
    parts = [str(m) for m in data.get("errorMessages") or []]
    parts += [f"{field}: {msg}" for field, msg in (data.get("errors") or {}).items()]
    parts += [str(data[k]) for k in ("message", "error") if isinstance(data.get(k), str)]
    return _short("; ".join(parts) or json.dumps(data))


def graphql_errors(data: dict[str, Any]) -> str:
    """GraphQL errors as one line, preferring Linear's ``userPresentableMessage``."""
    msgs = []
    for e in data.get("errors") or []:
        ext = e.get("extensions") or {}
        msgs.append(str(ext.get("userPresentableMessage") or e.get("message") or e))
    return _short("; ".join(msgs))


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _short(text: str, limit: int = 300) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
