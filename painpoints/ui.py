"""``painpoints ui``: a local web app to browse, search and curate (issue 19).

Server-rendered pages (Starlette + Jinja2, no script, nothing from a CDN) over the same ``Workspace``
the MCP server reads: pains / requests / praise by area, a theme page (trend with its counts, sources,
quotes, every segment paged, curation with a preview), search by meaning, the curation log. Rename,
hide, pin and move show at once; merge and split wait for a run, which the log page can start.

Security, because a page on localhost is reachable from any site the PM visits:

* it listens on 127.0.0.1 by default and answers only requests whose Host header names the address it
  serves (``TrustedHostMiddleware``: a DNS-rebinding page gets 400);
* every form carries a per-process secret, and a POST must carry it and, when the browser sends an
  Origin, come from this origin: a cross-site form post gets 403;
* bound to another interface it requires a token (``--token``, else one is generated and printed):
  ``?token=…`` once sets a cookie; without it every request gets 401.

While a run writes, DuckDB lets no other process open the file: pages wait a few seconds, then say so
(503, refreshing) instead of hanging.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from painpoints.discovery.search import SearchError
from painpoints.discovery.store import StoreError
from painpoints.workspace import Workspace

TEMPLATES = Path(__file__).resolve().parent / "templates"
PER_PAGE = 50
READ_WAIT = 3.0  # seconds a page waits for a writing run before saying so
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send "Origin: null" on our own posts
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class App:
    """The pages and their guards over one workspace."""

    def __init__(self, ws: Workspace, token: str | None = None) -> None:
        self.ws = ws
        self.token = token
        self.csrf = secrets.token_urlsafe(24)
        self.run: subprocess.Popen[bytes] | None = None
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))

    # ------------------------------------------------------------------ rendering and guards
    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(csrf=self.csrf, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def error(self, status: int, heading: str, message: str, refresh: int | None = None) -> HTMLResponse:
        return self.page("error.html.j2", status, title=heading, heading=heading, message=message, refresh=refresh)

    def busy(self, err: Exception) -> HTMLResponse:
        return self.error(
            503, "The database is busy", f"A run is writing to the database; this page retries in 5 s. ({err})", 5
        )

    def allowed(self, request: Request) -> Response | None:
        """The token check (only when bound beyond loopback); None = go on."""
        if self.token is None:
            return None
        given = request.query_params.get("token") or request.cookies.get("painpoints_token") or ""
        if not hmac.compare_digest(given, self.token):
            return self.error(401, "Token required", "Open the address printed by `painpoints ui`, with its ?token=.")
        if "token" in request.query_params:  # once: keep it in a cookie, drop it from the address bar
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie("painpoints_token", self.token, httponly=True, samesite="strict")
            return response
        return None

    async def form(self, request: Request) -> dict[str, str] | Response:
        """The posted form, or 403 for a cross-site post (wrong origin or missing secret)."""
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        data = {k: str(v) for k, v in (await request.form()).items()}
        if (origin is not None and origin != own) or not hmac.compare_digest(data.get("csrf", ""), self.csrf):
            return self.error(403, "Refused", "This form was not posted from painpoints' own page.")
        return data

    # ------------------------------------------------------------------------------ pages
    async def home(self, request: Request) -> Response:
        ws = self.ws
        area = request.query_params.get("area") or None  # one area's themes only
        return self.page(
            "home.html.j2",
            title="Pain points",
            pains=ws.ranked("pain_points", 100, area),
            facets=ws.ranked("pain_facets", 50, area),
            requests=ws.ranked("feature_requests", 50, area),
            praise=ws.ranked("praise", 50, area),
            areas=ws.areas(),
            area=area,
            run=ws.last_run(),
            notice=request.query_params.get("notice"),
        )

    async def theme(self, request: Request) -> Response:
        theme_id = request.path_params["theme_id"]
        page = max(0, int(request.query_params.get("page", "0") or 0))
        t = self.ws.theme(theme_id)
        themes = self.ws.themes()
        hidden = next((o["hidden"] for o in themes if o["theme_id"] == theme_id), None)
        if t is None and hidden is None:
            return self.error(404, "No such theme", f"{theme_id} is not a theme of the latest run.")
        if t is None:  # hidden: latest_themes leaves it out; show what the snapshot has
            t = {"theme_id": theme_id, **next(o for o in themes if o["theme_id"] == theme_id), "mix": {}, "quotes": []}
        segments = self.ws.segments(theme_id, page, PER_PAGE + 1)
        return self.page(
            "theme.html.j2",
            title=t["label"],
            t=_defaults(t),
            hidden=hidden,
            weeks=self.ws.weeks(theme_id),
            segments=segments[:PER_PAGE],
            more=len(segments) > PER_PAGE,
            page=page,
            areas=self.ws.areas(),
            themes=themes,
            notice=request.query_params.get("notice"),
        )

    async def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        hits = self.ws.search(q, limit=50, source=request.query_params.get("source") or None) if q else []
        return self.page("search.html.j2", title="Search", q=q, hits=hits)

    async def preview(self, request: Request) -> Response:
        data = await self.form(request)
        if isinstance(data, Response):
            return data
        theme_id = request.path_params["theme_id"]
        fields = {k: data[k] for k in ("action", "target", "value", "note") if data.get(k)}
        try:
            lines = self.ws.preview(fields.get("action", ""), theme_id, fields.get("target"), fields.get("value"))
        except StoreError as err:
            return self.error(400, "Not possible", str(err))
        return self.page(
            "preview.html.j2", title="Preview", action=fields["action"], theme_id=theme_id, lines=lines, fields=fields
        )

    async def apply(self, request: Request) -> Response:
        data = await self.form(request)
        if isinstance(data, Response):
            return data
        theme_id = request.path_params["theme_id"]
        action = data.get("action", "")
        try:
            live = self.ws.curate(action, theme_id, data.get("target"), data.get("value"), data.get("note"))
        except StoreError as err:
            return self.error(400, "Not applied", str(err))
        notice = f"{action} {theme_id}: " + (
            "done — in every view now." if live else "recorded — the next run applies it."
        )
        where = f"/theme/{theme_id}" if live else "/curation"
        return RedirectResponse(f"{where}?notice={notice}", status_code=303)

    async def curation(self, request: Request) -> Response:
        running = self.run is not None and self.run.poll() is None
        return self.page(
            "curation.html.j2",
            title="Curation log",
            log=self.ws.curation_log(),
            run=self.ws.last_run(),
            pending=self.ws.pending(),
            running=running,
            refresh=5 if running else None,
            notice=request.query_params.get("notice"),
        )

    async def start_run(self, request: Request) -> Response:
        data = await self.form(request)
        if isinstance(data, Response):
            return data
        if self.run is None or self.run.poll() is not None:  # the same command a PM would type
            cmd = [sys.executable, "-m", "painpoints.cli", "run", "--db", str(self.ws.db)]
            self.run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return RedirectResponse("/curation?notice=A run started; it applies the pending actions.", status_code=303)


def _defaults(t: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "description",
        "theme_type",
        "area_id",
        "area_label",
        "status",
        "pinned",
        "feedback_items",
        "share",
        "negative_share",
        "sources",
        "trend",
        "trend_recent",
        "trend_expected",
        "impact",
    )
    return (
        {k: None for k in keys}
        | {"share": 0.0, "negative_share": 0.0, "feedback_items": 0}
        | {k: v for k, v in t.items() if v is not None}
    )


def create_app(
    ws: Workspace, host: str = "127.0.0.1", token: str | None = None, allow_hosts: tuple[str, ...] = ()
) -> Starlette:
    """The ASGI app (tests serve it with uvicorn on 127.0.0.1)."""
    # pages wait a few seconds for a writing run, not the minute a writer would (a copy: ``ws`` is the caller's)
    app = App(Workspace(ws.settings.model_copy(update={"lock_wait": READ_WAIT}), ws.encoder), token)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            refused = app.allowed(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except StoreError as err:
                if "locked" in str(err) or "lock" in str(err).lower():
                    return app.busy(err)
                return app.error(500, "Database error", str(err))
            except SearchError as err:
                return app.error(400, "Search not possible", str(err))

        return endpoint

    routes = [
        Route("/", guarded(app.home)),
        Route("/theme/{theme_id}", guarded(app.theme)),
        Route("/search", guarded(app.search)),
        Route("/curation", guarded(app.curation)),
        Route("/theme/{theme_id}/preview", guarded(app.preview), methods=["POST"]),
        Route("/theme/{theme_id}/apply", guarded(app.apply), methods=["POST"]),
        Route("/run", guarded(app.start_run), methods=["POST"]),
    ]
    hosts = sorted({host, "localhost", "127.0.0.1", "[::1]", *allow_hosts})
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def serve(
    ws: Workspace,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    allow_hosts: tuple[str, ...] = (),
) -> None:
    """Serve until stopped; beyond loopback only with a token (generated and printed when not given)."""
    import uvicorn

    if not is_loopback(host) and token is None:
        token = secrets.token_urlsafe(16)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"painpoints ui: http://{shown}:{port}/" + (f"?token={token}" if token else ""), flush=True)
    uvicorn.run(create_app(ws, host, token, allow_hosts), host=host, port=port, log_level="warning")
