"""The HTTP layer of the live sources (httpx): retries, rate limits, refused credentials.

- 5xx answers, timeouts, lost connections and unreadable bodies are retried ``retries`` times
  with doubling waits (``backoff_s``, 2×, 4×, … plus jitter); then :class:`SourceUnavailable`.
- 429 is :class:`RateLimited` with the time the limit resets, read from ``x-rate-limit-reset``
  (X), ``ratelimit-reset`` (Bluesky) or ``retry-after``; the caller decides to wait or stop.
- 401 and 403 are :class:`CredentialsRefused`; any other 4xx is :class:`RequestRefused`. Both name
  the API and what it said, never the token (messages pass through ``mask_secrets``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sentiment.clock import utcnow
from sentiment.errors import UserError
from sentiment.store.engine import mask_secrets

#: Shown to the APIs; X and Bluesky ask clients to name themselves.
USER_AGENT = "tweetsent (+https://github.com/tweetsent)"


class SourceUnavailable(UserError):
    """The API kept failing (5xx, timeouts) after every retry."""


class CredentialsRefused(UserError):
    """401/403: the token or app password is missing, wrong or not allowed to use this endpoint."""


class RequestRefused(UserError):
    """Another 4xx: the API refused the request as asked (a bad query, an expired cursor)."""

    def __init__(self, what: str, problem: str | None = None, hint: str | None = None, status: int = 400, code: str = "") -> None:
        super().__init__(what, problem, hint)
        self.status, self.code = status, code

    def __reduce__(self):
        return (type(self), (self.what, self.problem, self.hint, self.status, self.code))


@dataclass
class RateLimited(Exception):
    """429: the limit resets at ``reset_at`` (naive UTC; None when the API did not say)."""

    api: str
    reset_at: datetime | None
    detail: str = ""

    def __str__(self) -> str:
        when = f"until {self.reset_at:%Y-%m-%d %H:%M:%S} UTC" if self.reset_at else "(no reset time given)"
        return f"{self.api} rate limit reached {when}"

    def wait_s(self, now: datetime | None = None) -> float | None:
        if self.reset_at is None:
            return None
        return max(0.0, (self.reset_at - (now or utcnow())).total_seconds())


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


def reset_time(headers: httpx.Headers | dict[str, str], now: datetime | None = None) -> datetime | None:
    """When a rate limit resets, from the headers X and Bluesky send (naive UTC)."""
    now = now or utcnow()
    for name in ("x-rate-limit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if value and value.strip().isdigit():
            number = int(value.strip())
            # an epoch timestamp, or (some servers) seconds from now
            if number > 1_000_000_000:
                return datetime.fromtimestamp(number, UTC).replace(tzinfo=None)
            return now + timedelta(seconds=number)
    retry_after = headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return now + timedelta(seconds=int(retry_after.strip()))
        try:
            return parsedate_to_datetime(retry_after).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            return None
    return None


def said(body: Any, text: str = "") -> str:
    """What an error body says, in one short line: X problem JSON (``detail``, ``title``,
    ``errors[].message``) or XRPC (``error``: ``message``)."""
    parts: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            parts.append(body["error"] + (f": {body['message']}" if isinstance(body.get("message"), str) else ""))
        for key in ("detail", "title", "reason"):
            if isinstance(body.get(key), str) and body[key] not in parts:
                parts.append(body[key])
                break
        errors = body.get("errors")
        if isinstance(errors, list):
            parts += [e["message"] for e in errors[:3] if isinstance(e, dict) and isinstance(e.get("message"), str)]
    elif text:
        parts.append(text)
    line = " ".join("; ".join(parts).split())
    return mask_secrets(line[:300] + ("…" if len(line) > 300 else ""))


class ApiClient:
    """GET and POST JSON against one API with retries; ``name`` is how messages call it."""

    def __init__(
        self,
        base_url: str,
        name: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url, self.name = base_url.rstrip("/"), name
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.log = log or (lambda message: None)
        self.requests = 0
        self._client = httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None, token: str | None = None) -> Response:
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        params = {k: v for k, v in (params or {}).items() if v is not None}
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                wait = self.backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 4)
                self.log(f"{self.name}: {problem}; retry {attempt} of {self.retries} in {wait:.1f} s")
                self.sleep(wait)
            self.requests += 1
            try:
                answer = self._client.request(method, url, params=params, json=json, headers=headers)
            except httpx.TimeoutException:
                problem = f"no answer within {self._client.timeout.read} s"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {mask_secrets(str(exc))[:200]})"
                continue
            try:
                body = answer.json() if answer.content else None
            except ValueError:
                body = None
                if answer.status_code < 300:
                    problem = f"HTTP {answer.status_code} with a body that is not JSON"
                    continue
            if answer.status_code < 300:
                return Response(answer.status_code, body, dict(answer.headers))
            message = said(body, answer.text[:300] if body is None else "")
            if answer.status_code == 429:
                raise RateLimited(self.name, reset_time(answer.headers), message)
            if answer.status_code >= 500:
                problem = f"HTTP {answer.status_code}" + (f" ({message})" if message else "")
                continue
            if answer.status_code in (401, 403):
                raise CredentialsRefused(self.name, f"HTTP {answer.status_code} {answer.reason_phrase}" + (f" ({message})" if message else ""))
            code = body.get("error", "") if isinstance(body, dict) and isinstance(body.get("error"), str) else ""
            raise RequestRefused(self.name, f"HTTP {answer.status_code}" + (f": {message}" if message else ""), status=answer.status_code, code=code)
        raise SourceUnavailable(self.name, f"{problem}, still after {self.retries} retries")
