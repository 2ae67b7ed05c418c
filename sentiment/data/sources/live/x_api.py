"""X API v2 recent search (``GET /2/tweets/search/recent``): one page at a time.

Where a query stands (the ``position`` kept in ``pull_cursors``):

- ``since_id``: the newest post of the last pull that caught up; the next pull asks only for
  newer posts (``since_id`` is exclusive).
- ``next_token``, ``pending_newest_id``, ``oldest_id``: a pagination under way (the run ran out of
  budget, hit the rate limit or was killed). The next run continues with the same ``since_id`` and
  that ``next_token`` (X's tokens do not expire); should the API refuse the token, it asks for
  posts older than ``oldest_id`` instead (``until_id``). When the pagination ends, the newest post
  it saw becomes ``since_id``.
"""

from __future__ import annotations

from typing import Any

from sentiment.data.records import make_record, safe_dumps
from sentiment.data.sources.file_readers import x_tweet_record, x_usernames
from sentiment.data.sources.live.credentials import X_TOKEN_BLOCK, X_TOKEN_ENV, secret, where_to_set
from sentiment.data.sources.live.http import ApiClient, CredentialsRefused, RequestRefused
from sentiment.data.sources.live.pages import Page, normalise_lang
from sentiment.store.engine import mask_secrets

SEARCH_PATH = "/2/tweets/search/recent"
TWEET_FIELDS = "created_at,lang,author_id,withheld"
#: Errors kept on a batch record (the API can return one per missing author).
MAX_ERRORS = 50


def _withheld(tweet: dict[str, Any]) -> str | None:
    held = tweet.get("withheld")
    if not isinstance(held, dict):
        return None
    if held.get("copyright"):
        return "withheld by X on a copyright claim"
    countries = [c for c in held.get("country_codes") or [] if isinstance(c, str)]
    return "withheld by X" + (f" in {', '.join(countries[:10])}" if countries else "")


def tweet_records(body: Any, query: str, where: str) -> tuple[list[dict[str, Any]], int]:
    """Canonical records of one response's ``data`` (and how many posts it held)."""
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        return [make_record(source="x_api", location=where, raw=body, problems=["not an X API v2 search response"])], 1
    users = x_usernames(body.get("includes"))
    records = []
    for i, tweet in enumerate(body.get("data") or []):
        location = f"{where}:data[{i}]"
        if not isinstance(tweet, dict):
            records.append(make_record(source="x_api", location=location, raw=tweet, problems=["post is not a JSON object"]))
            continue
        problems = [p for p in (_withheld(tweet),) if p]
        records.append(x_tweet_record(tweet, users, location, lang=normalise_lang(tweet.get("lang")), topic=query, problems=problems))
    return records, len(body.get("data") or [])


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return [int(r["source_id"]) for r in records if r["id_namespace"] == "x" and (r["source_id"] or "").isdigit()]


def api_errors(body: Any) -> list[dict[str, Any]]:
    """The ``errors`` array of a 200 answer, each error kept small and without secrets."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    kept = []
    for error in errors[:MAX_ERRORS]:
        if isinstance(error, dict):
            kept.append({k: mask_secrets(str(v))[:300] for k, v in error.items() if k in ("title", "detail", "type", "resource_type", "resource_id", "parameter", "value", "message")})
        else:
            kept.append({"detail": mask_secrets(safe_dumps(error))[:300]})
    if len(errors) > MAX_ERRORS:
        kept.append({"detail": f"{len(errors) - MAX_ERRORS} more errors not kept"})
    return kept


class XSearch:
    """Pages of one X query. ``fetch(position, limit)`` asks for the next page after ``position``."""

    kind = "x"

    def __init__(self, client: ApiClient, query: str) -> None:
        self.client, self.query = client, query
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            value, _ = secret(X_TOKEN_BLOCK, X_TOKEN_ENV)
            if not value:
                raise CredentialsRefused("X API", "no bearer token", where_to_set(X_TOKEN_BLOCK, X_TOKEN_ENV))
            self._token = value
        return self._token

    def fetch(self, position: dict[str, Any], limit: int) -> Page:
        params = {
            "query": self.query,
            "max_results": max(10, min(100, limit)),
            "since_id": position.get("since_id"),
            "next_token": position.get("next_token"),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        note = None
        try:
            answer = self._get(params)
        except RequestRefused as exc:
            if not position.get("next_token") or exc.status != 400:
                raise
            # The API refused the saved token: ask for what is older than the oldest post stored.
            params["next_token"] = None
            params["until_id"] = position.get("oldest_id")
            note = f"X refused the saved next_token ({exc.problem}); went on with until_id={params['until_id']}"
            answer = self._get(params)
        where = f"x:{self.query}@{position.get('next_token') or position.get('since_id') or 'start'}"
        records, read = tweet_records(answer.body, self.query, where)
        meta = answer.body.get("meta") if isinstance(answer.body, dict) and isinstance(answer.body.get("meta"), dict) else {}
        ids = _ids(records)
        pending = int(position["pending_newest_id"]) if position.get("pending_newest_id") else 0
        pending = max([pending, *ids])
        oldest = min(ids) if ids else position.get("oldest_id")
        next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) and meta.get("next_token") else None
        since = int(position["since_id"]) if position.get("since_id") else 0
        if next_token:  # a page can be empty (filtered) and still not be the last
            new = {"since_id": position.get("since_id"), "next_token": next_token, "pending_newest_id": str(pending) if pending else None, "oldest_id": str(oldest) if oldest else None}
            done = False
        else:
            newest = max(since, pending)
            new = {"since_id": str(newest) if newest else None}
            done = True
        return Page(records, new, done, read=read, errors=api_errors(answer.body), note=note)

    def _get(self, params: dict[str, Any]):
        try:
            return self.client.request("GET", SEARCH_PATH, params=params, token=self.token())
        except CredentialsRefused as exc:
            raise CredentialsRefused("X API", f"refused the bearer token: {exc.problem}", where_to_set(X_TOKEN_BLOCK, X_TOKEN_ENV)) from None
