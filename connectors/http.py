"""HTTP for live connectors and webhooks: one ``httpx`` client with bounded retries.

Retried: 429 (waiting what ``Retry-After`` asks, capped), 5xx, timeouts and connection errors, each
with exponential backoff up to ``max_retries`` attempts. Other 4xx fail at once with a clear error
(a wrong token does not get better by asking again). Credentials never appear in errors or logs:
errors name the method, path and status only.
"""

from __future__ import annotations

import logging
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)


class HttpError(RuntimeError):
    """A request failed for good (after retries, or with a status that retrying cannot fix).

    ``status`` and ``body`` (the start of the response text) are kept for callers that turn an API's
    own error message into theirs (a 400 from Jira says which field it rejects); the message itself
    names only the method, path and status."""

    def __init__(self, message: str, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from datetime import datetime

            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class RetryingClient:
    """``get_json``/``post_json`` over one ``httpx.Client`` with the retry policy above."""

    def __init__(
        self,
        base_url: str = "",
        auth: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_wait: float = 120.0,
        name: str | None = None,
    ) -> None:
        self.client = httpx.Client(base_url=base_url, auth=auth, headers=headers, timeout=timeout)
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.name = name  # shown instead of the URL in logs and errors: a webhook's URL is its secret

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RetryingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", url, params=params).json()

    def post_json(self, url: str, payload: Any) -> httpx.Response:
        return self._request("POST", url, json=payload)

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        def wait(state: RetryCallState) -> float:
            err = state.outcome.exception() if state.outcome else None
            backoff = wait_exponential(multiplier=0.5, max=30)(state)
            asked = getattr(err, "retry_after", None)
            return min(self.max_wait, asked if asked is not None else backoff)

        def before_sleep(state: RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s %s: %s; retry %d/%d in %.1f s",
                method,
                self._where(url),
                err,
                state.attempt_number,
                self.max_retries,
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            stop=stop_after_attempt(self.max_retries),
            wait=wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, method, url, **kwargs)
        except _Retryable as err:
            raise HttpError(f"{method} {self._where(url)} failed after {self.max_retries} attempts: {err}") from None

    def _where(self, url: str) -> str:
        return self.name or _path(url)

    def _once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self.client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as err:
            raise _Retryable(type(err).__name__) from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Retryable(f"HTTP {resp.status_code}", retry_after_seconds(resp.headers.get("Retry-After")))
        if resp.status_code >= 400:
            raise HttpError(
                f"{method} {self._where(url)}: HTTP {resp.status_code} {resp.reason_phrase}",
                status=resp.status_code,
                body=resp.text[:4000],
            )
        return resp


def _path(url: str) -> str:
    """The URL without query string or credentials, for messages."""
    u = httpx.URL(url)
    return u.path if not u.host else f"{u.scheme}://{u.host}{u.path}"
