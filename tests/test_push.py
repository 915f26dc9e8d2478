"""`painpoints push THEME_ID --to jira|linear` against real HTTP servers on 127.0.0.1 that speak the
documented protocols: Jira Cloud REST v3 `POST /rest/api/3/issue` (basic auth email:API token, an
Atlassian Document Format description, 201 with id/key/self) and Linear's GraphQL `issueCreate`
(the personal API key as the whole Authorization header). Each server checks what a real one would
reject: auth, the body's shape, a valid ADF document."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from painpoints import adf
from painpoints.cli import main
from painpoints.workspace import connect
from tests.helpers import rows as q
from tests.http_servers import _Server

EMAIL, TOKEN, LINEAR_KEY = "pm@example.com", "atl-token-123", "lin_api_test_key"
TEAM = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"
ADF_BLOCKS = {"paragraph", "heading", "bulletList", "listItem", "blockquote"}
ADF_MARKS = {"strong", "em", "code"}


def adf_problems(node: dict[str, Any], path: str = "doc") -> list[str]:
    """What Jira would reject in an ADF document (the node types and marks we emit)."""
    kind = node.get("type")
    if kind == "text":
        bad = [m["type"] for m in node.get("marks", []) if m["type"] not in ADF_MARKS]
        return ([f"{path}: empty text"] if not node.get("text") else []) + [f"{path}: mark {m}" for m in bad]
    if kind not in ADF_BLOCKS and path != "doc":
        return [f"{path}: node type {kind}"]
    if kind == "heading" and node.get("attrs", {}).get("level") not in range(1, 7):
        return [f"{path}: heading level"]
    out = []
    for i, child in enumerate(node.get("content", [])):
        out += adf_problems(child, f"{path}.{kind}[{i}]")
    return out


class FakeJira(_Server):
    """Jira Cloud's create-issue endpoint: keys ENG-1, ENG-2… in the one project it knows."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[dict[str, Any]] = []

    def respond(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> tuple[int, dict, Any]:
        if headers.get("Authorization") != "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode():
            return 401, {}, {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}
        if (method, path) != ("POST", "/rest/api/3/issue") or "json" not in headers.get("Content-Type", ""):
            return 404, {}, {"errorMessages": ["Not found"]}
        fields = json.loads(body)["fields"]
        errors = {}
        if fields.get("project", {}).get("key") != "ENG":
            errors["project"] = "valid project is required"
        if not fields.get("summary") or len(fields["summary"]) > 255:
            errors["summary"] = "You must specify a summary of the issue."
        if fields.get("issuetype", {}).get("name") != "Task":
            errors["issuetype"] = "Specify an issue type"
        doc = fields.get("description", {})
        if doc.get("type") != "doc" or doc.get("version") != 1 or adf_problems(doc):
            errors["description"] = "Operation value must be an Atlassian Document. " + "; ".join(adf_problems(doc))
        if errors:
            return 400, {}, {"errorMessages": [], "errors": errors}
        self.created.append(fields)
        n = len(self.created)
        return 201, {}, {"id": str(10000 + n), "key": f"ENG-{n}", "self": f"{self.url}/rest/api/3/issue/{10000 + n}"}


class FakeLinear(_Server):
    """Linear's GraphQL endpoint, the issueCreate mutation only."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[dict[str, Any]] = []

    def respond(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> tuple[int, dict, Any]:
        if headers.get("Authorization") != LINEAR_KEY:  # a personal key goes as it is, no "Bearer"
            return (
                401,
                {},
                {
                    "errors": [
                        {
                            "message": "Authentication required, not authenticated",
                            "extensions": {
                                "type": "authentication error",
                                "userPresentableMessage": "You need to authenticate to access this operation.",
                            },
                        }
                    ]
                },
            )
        request = json.loads(body)
        if path == "/graphql" and "teams(filter: { key: { eqIgnoreCase: $key } })" in request.get("query", ""):
            found = request["variables"]["key"].upper() == "ENG"
            return 200, {}, {"data": {"teams": {"nodes": [{"id": TEAM, "key": "ENG", "name": "Engineering"}] * found}}}
        if path != "/graphql" or "issueCreate(input: $input)" not in request.get("query", ""):
            return 400, {}, {"errors": [{"message": "Cannot query field"}]}
        data = request["variables"]["input"]
        if data.get("teamId") != TEAM:
            return 200, {}, {"data": None, "errors": [{"message": "Entity not found: Team", "path": ["issueCreate"]}]}
        self.created.append(data)
        key = f"ENG-{len(self.created)}"
        url = f"https://linear.app/acme/issue/{key}"
        issue = {"id": f"id-{key}", "identifier": key, "url": url, "title": data["title"]}
        return 200, {}, {"data": {"issueCreate": {"success": True, "issue": issue}}}


def top_theme(db: Path) -> tuple[str, str]:
    return q(db, "select theme_id, label from pain_points where rank = 1")[0]


def quoted_ids(db: Path, theme_id: str, n: int = 3) -> list[str]:
    """External ids of the theme's most negative segments: the first quotes of the body."""
    sql = (
        "select external_id from feedback_themes where theme_id = ? "
        "order by sentiment_score, feedback_id, segment limit ?"
    )
    return [r[0] for r in q(db, sql, [theme_id, n])]


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch):
    with FakeJira() as server:
        monkeypatch.setenv("JIRA_URL", server.url)
        monkeypatch.setenv("JIRA_EMAIL", EMAIL)
        monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
        yield server


@pytest.fixture
def linear(monkeypatch: pytest.MonkeyPatch):
    with FakeLinear() as server:
        monkeypatch.setenv("PAINPOINTS_LINEAR_URL", f"{server.url}/graphql")
        monkeypatch.setenv("LINEAR_API_KEY", LINEAR_KEY)
        yield server


def push(db: Path, *args: str):
    return CliRunner().invoke(main, ["push", *args, "--db", str(db)])


def test_jira_push_files_the_theme_once_with_its_evidence(golden_db: Path, jira: FakeJira) -> None:
    theme_id, label = top_theme(golden_db)
    result = push(golden_db, theme_id, "--to", "jira", "--project", "ENG")
    assert result.exit_code == 0, result.output
    assert f"as ENG-1: {jira.url}/browse/ENG-1" in result.output
    (fields,) = jira.created
    assert fields["summary"] == f"Pain point: {label}"
    text = adf.plain(fields["description"])
    assert all(ext in text for ext in quoted_ids(golden_db, theme_id))  # quotes with their feedback ids
    assert "Size:" in text and "Trend:" in text and "area:" in text
    assert q(golden_db, "select theme_id, target, issue_key, url, project from theme_issues") == [
        (theme_id, "jira", "ENG-1", f"{jira.url}/browse/ENG-1", "ENG")
    ]

    log = connect(golden_db).curation_log()  # the web app's log page lists pushes beside curation
    assert (log[0]["action"], log[0]["theme_id"], log[0]["value"]) == ("push", theme_id, "jira ENG-1")

    again = push(golden_db, theme_id, "--to", "jira", "--project", "ENG")
    assert again.exit_code == 0 and "already pushed to jira as ENG-1" in again.output
    assert len(jira.requests) == 1  # nothing sent the second time

    forced = push(golden_db, theme_id, "--to", "jira", "--project", "ENG", "--again")
    assert forced.exit_code == 0 and "ENG-2" in forced.output and len(jira.created) == 2


def test_linear_push_sends_markdown_with_the_key_as_authorization(golden_db: Path, linear: FakeLinear) -> None:
    theme_id, label = top_theme(golden_db)
    result = push(golden_db, theme_id, "--to", "linear", "--team", TEAM)
    assert result.exit_code == 0, result.output
    assert "as ENG-1: https://linear.app/acme/issue/ENG-1" in result.output
    (sent,) = linear.created
    assert sent["title"] == f"Pain point: {label}" and sent["teamId"] == TEAM
    assert "## What customers say" in sent["description"]
    assert all(f"`{ext}`" in sent["description"] for ext in quoted_ids(golden_db, theme_id))
    assert q(golden_db, "select issue_key, project from theme_issues where target = 'linear'") == [("ENG-1", TEAM)]
    again = push(golden_db, theme_id, "--to", "linear", "--team", TEAM)
    assert "already pushed to linear as ENG-1" in again.output and len(linear.requests) == 1

    by_key = push(golden_db, theme_id, "--to", "linear", "--team", "eng", "--again")  # the team's key, as PMs know it
    assert by_key.exit_code == 0 and "ENG-2" in by_key.output and linear.created[1]["teamId"] == TEAM
    unknown = push(golden_db, theme_id, "--to", "linear", "--team", "NOPE", "--again")
    assert unknown.exit_code == 1 and "no team with key 'NOPE'" in unknown.output and len(linear.created) == 2


def test_a_rate_limited_push_waits_and_files_one_issue(golden_db: Path, jira: FakeJira) -> None:
    jira.script = [{"status": 429, "headers": {"Retry-After": "0"}}, {"status": 503}]
    result = push(golden_db, top_theme(golden_db)[0], "--to", "jira", "--project", "ENG")
    assert result.exit_code == 0, result.output
    assert len(jira.requests) == 3 and len(jira.created) == 1 and "ENG-1" in result.output


def test_refused_pushes_say_why_on_one_line_and_record_nothing(
    golden_db: Path, jira: FakeJira, linear: FakeLinear, monkeypatch: pytest.MonkeyPatch
) -> None:
    theme_id = top_theme(golden_db)[0]
    wrong_project = push(golden_db, theme_id, "--to", "jira", "--project", "NOPE")
    assert wrong_project.exit_code == 1
    assert "Error: jira: HTTP 400: project: valid project is required" in wrong_project.output

    monkeypatch.setenv("JIRA_API_TOKEN", "expired")
    denied = push(golden_db, theme_id, "--to", "jira", "--project", "ENG")
    assert denied.exit_code == 1 and len(denied.output.strip().splitlines()) == 1
    assert "HTTP 401: Client must be authenticated" in denied.output and "JIRA_API_TOKEN" in denied.output
    assert "expired" not in denied.output  # the credential itself never shows
    assert len(jira.requests) == 2  # a 4xx is not retried

    monkeypatch.setenv("LINEAR_API_KEY", "lin_api_revoked")
    denied = push(golden_db, theme_id, "--to", "linear", "--team", TEAM)
    assert denied.exit_code == 1 and "HTTP 401: You need to authenticate" in denied.output
    monkeypatch.setenv("LINEAR_API_KEY", LINEAR_KEY)
    no_team = push(golden_db, theme_id, "--to", "linear", "--team", "00000000-0000-4000-8000-000000000000")
    assert no_team.exit_code == 1 and "linear: Entity not found: Team" in no_team.output
    monkeypatch.delenv("JIRA_EMAIL")
    unset = push(golden_db, theme_id, "--to", "jira", "--project", "ENG")
    assert unset.exit_code == 1 and "set JIRA_EMAIL and JIRA_API_TOKEN" in unset.output
    assert q(golden_db, "select count(*) from theme_issues") == [(0,)]


def test_dry_run_shows_the_issue_and_sends_nothing(golden_db: Path, jira: FakeJira) -> None:
    theme_id, label = top_theme(golden_db)
    shown = push(golden_db, theme_id, "--to", "jira", "--project", "ENG", "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert f"Pain point: {label}" in shown.output and quoted_ids(golden_db, theme_id)[0] in shown.output
    body = json.loads(push(golden_db, theme_id, "--to", "jira", "--project", "ENG", "--dry-run", "--json").output)
    assert body["fields"]["project"] == {"key": "ENG"} and not adf_problems(body["fields"]["description"])
    unknown = push(golden_db, "T999", "--to", "jira", "--project", "ENG")
    assert unknown.exit_code == 1 and "no theme 'T999'" in unknown.output
    assert jira.requests == []


def test_markdown_becomes_a_valid_adf_document() -> None:
    md = (
        "Intro with **bold**, `code`, _stress_ and snake_case_names.\n\n"
        "- **Size:** 3\n- plain\n\n## Quotes\n\n"
        "> It breaks ** all the time <b>\n>\n> — play `r-1`, 2026-01-02\n"
    )
    doc = adf.document(md)
    assert doc["type"] == "doc" and doc["version"] == 1 and not adf_problems(doc)
    kinds = [n["type"] for n in doc["content"]]
    assert kinds == ["paragraph", "bulletList", "heading", "blockquote"]
    intro = doc["content"][0]["content"]
    assert {"type": "text", "text": "bold", "marks": [{"type": "strong"}]} in intro
    assert {"type": "text", "text": "stress", "marks": [{"type": "em"}]} in intro
    assert any(n["text"].endswith("snake_case_names.") and "marks" not in n for n in intro)
    quote = doc["content"][3]["content"]
    assert len(quote) == 2 and adf.plain(quote[0]) == "It breaks ** all the time <b>"
    assert {"type": "text", "text": "r-1", "marks": [{"type": "code"}]} in quote[1]["content"]
