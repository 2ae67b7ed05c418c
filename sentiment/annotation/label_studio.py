"""A Label Studio server, through its official SDK (``label-studio-sdk`` 2.1): a project, tasks in, annotations out.

:func:`connect` checks the URL and the API key at once (``GET /api/current-user/whoami``), so a wrong one
fails there, in one line that names the URL and the setting to fix, never the key. The key is either a
personal access token (a JWT refresh token, recent Label Studio: the SDK trades it for short-lived access
tokens and sends ``Authorization: Bearer``) or a legacy token (sent as ``Authorization: Token``), which
works only where the organization enables legacy tokens (``label-studio start --enable-legacy-api-token``
or ``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` when the organization is created; scripts/label_studio.sh
does both).

Tasks are Label Studio's import JSON (:func:`sentiment.annotation.formats.task_for`); a tweet already in
the project (same ``data.tweet_id``) is not imported again. :func:`export_annotations` returns the same
full JSON export a person downloads from the UI, so one importer reads both.

Client mistakes (refused key, unreachable server, a config or task the server rejects: HTTP 4xx) raise
:class:`LabelStudioError`; a server error (HTTP 5xx) after connecting keeps its traceback.
The SDK is imported inside the functions: this module imports without it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sentiment.errors import UserError
from sentiment.store.engine import mask_secrets, remember_secret

URL_SETTING = "TWEETSENT_LABEL_STUDIO_URL"
KEY_SETTINGS = "the Secret block tweetsent-label-studio-api-key or TWEETSENT_LABEL_STUDIO_API_KEY"
CONNECT_TIMEOUT_S = 15  # the whoami check; later calls use the SDK's 60 s
IMPORT_BATCH = 500  # tasks per import request (Label Studio takes up to 250k, but one huge request is fragile)
PAGE_SIZE = 500  # tasks per page when listing a project's tweet ids


class LabelStudioError(UserError):
    """Label Studio refused or could not be reached: a wrong URL or key, a rejected config or task."""


def connect(url: str, api_key: str):
    """A ``label_studio_sdk.LabelStudio`` client for ``url``, after checking that the key is accepted there."""
    url = (url or "").strip().rstrip("/")
    api_key = (api_key or "").strip()
    remember_secret(api_key)
    if not url:
        raise LabelStudioError("Label Studio", "no server URL", f"set {URL_SETTING} (e.g. http://127.0.0.1:8080)")
    if not re.match(r"https?://[^/\s]+", url):
        raise LabelStudioError(f"Label Studio at {mask_secrets(url)!r}", "the URL is not http(s)://host[:port]", f"fix {URL_SETTING}")
    if not api_key:
        raise LabelStudioError(f"Label Studio at {url}", "no API key", f"set {KEY_SETTINGS}")
    from label_studio_sdk import LabelStudio

    with _reporting(url, f"Label Studio at {url}", connecting=True):
        client = LabelStudio(base_url=url, api_key=api_key)  # an expired JWT already fails here
        client.users.whoami(request_options={"timeout_in_seconds": CONNECT_TIMEOUT_S})
    return client


def ensure_project(client, title: str, label_config: str) -> int:
    """The id of the project called exactly ``title`` (the oldest, if several), created if missing; its
    labelling config is set to ``label_config`` where it differs (beyond whitespace between tags)."""
    with _reporting(_url(client), f"Label Studio project {title!r}"):
        # ``title`` filters by substring, case-insensitively: keep exact matches only
        found = sorted(int(p.id) for p in client.projects.list(title=title) if p.title == title)
        if not found:
            return int(client.projects.create(title=title, label_config=label_config).id)
        project_id = found[0]
        current = client.projects.get(project_id).label_config or ""
        if _squeeze(current) != _squeeze(label_config):
            client.projects.update(project_id, label_config=label_config)
        return project_id


def import_tasks(client, project_id: int, tasks: list[dict]) -> int:
    """Import ``tasks`` (Label Studio import JSON, each with ``data.tweet_id``) into the project, leaving out
    tweets it already has (and repeats within ``tasks``); returns how many were imported.

    Not safe against another import into the same project at the same moment: both may add a tweet."""
    url = _url(client)
    if not tasks:
        return 0
    fresh: list[dict] = []
    for index, task in enumerate(tasks):
        tweet_id = _tweet_id(task)
        if tweet_id is None:
            raise LabelStudioError(f"task {index} for Label Studio project {project_id}", "has no data.tweet_id", "build tasks with sentiment.annotation.formats.task_for")
        fresh.append(task)
    with _reporting(url, f"Label Studio project {project_id}"):
        seen = existing_tweet_ids(client, project_id)
        new: list[dict] = []
        for task in fresh:
            tweet_id = _tweet_id(task)
            if tweet_id not in seen:
                seen.add(tweet_id)
                new.append(task)
        imported = 0
        for start in range(0, len(new), IMPORT_BATCH):
            batch = new[start : start + IMPORT_BATCH]
            response = client.projects.import_tasks(project_id, request=batch)
            # Community edition answers with counts; Enterprise imports in the background ({"import": id})
            count = getattr(response, "task_count", None)
            imported += int(count) if count is not None else len(batch)
        return imported


def existing_tweet_ids(client, project_id: int) -> set[str]:
    """``data.tweet_id`` of every task in the project, as text."""
    found: set[str] = set()
    for task in client.tasks.list(project=project_id, fields="task_only", page_size=PAGE_SIZE):
        tweet_id = _tweet_id({"data": getattr(task, "data", None)})
        if tweet_id is not None:
            found.add(tweet_id)
    return found


def export_annotations(client, project_id: int) -> list[dict]:
    """Every task of the project, annotated or not, in Label Studio's full JSON export (what "Export > JSON"
    in the UI downloads): ``[{"id", "data", "annotations": [{"id", "completed_by", "result", "was_cancelled",
    "created_at", "updated_at", ...}], "predictions", ...}]``."""
    with _reporting(_url(client), f"Label Studio project {project_id}"):
        exported = client.projects.exports.as_json(project_id)
    if not isinstance(exported, list):
        raise LabelStudioError(f"Label Studio project {project_id}", f"the export is a {type(exported).__name__}, not a list of tasks")
    return exported


def annotate(client, project_id: int, task_id: int, choice: str, from_name: str = "sentiment", to_name: str = "text") -> None:
    """Answer ``choice`` on a task as the API's user, as an annotator would in the UI (the tests play annotator)."""
    result = [{"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [choice]}}]
    with _reporting(_url(client), f"task {task_id} of Label Studio project {project_id}"):
        client.annotations.create(task_id, project=project_id, result=result, was_cancelled=False)


# --- helpers ---------------------------------------------------------------------------------------------


def _tweet_id(task: Any) -> str | None:
    data = task.get("data") if isinstance(task, dict) else None
    value = data.get("tweet_id") if isinstance(data, dict) else None
    text = "" if value is None else str(value).strip()
    return text or None


def _squeeze(config: str) -> str:
    """A labelling config without the whitespace around and between its tags."""
    return re.sub(r">\s+<", "><", config.strip())


def _url(client) -> str:
    try:
        return str(client._client_wrapper.get_base_url()).rstrip("/")
    except AttributeError:  # not the SDK's client (a stand-in)
        return "Label Studio"


@contextmanager
def _reporting(url: str, what: str, connecting: bool = False) -> Iterator[None]:
    """Turns the SDK's and httpx's errors into a :class:`LabelStudioError`, where a person can fix them."""
    try:
        yield
    except LabelStudioError:
        raise
    except Exception as exc:  # sorted out below; anything else is re-raised as it was
        error = _user_error(url, what, exc, connecting)
        if error is None:
            raise
        raise error from exc


def _user_error(url: str, what: str, exc: Exception, connecting: bool) -> LabelStudioError | None:
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    reach_hint = f"is Label Studio running there? (scripts/label_studio.sh start PORT DATA_DIR) Else fix {URL_SETTING}"
    if isinstance(exc, httpx.TimeoutException):
        return LabelStudioError(what, f"no answer from {url} in time ({type(exc).__name__})", reach_hint)
    if isinstance(exc, httpx.TransportError | httpx.InvalidURL):
        return LabelStudioError(what, f"cannot connect to {url} ({mask_secrets(str(exc) or type(exc).__name__)})", reach_hint)
    if isinstance(exc, ValueError) and connecting:  # the token refresh reads its answer as JSON unchecked
        return LabelStudioError(what, f"{url} does not answer like Label Studio's API", f"fix {URL_SETTING}")
    if not isinstance(exc, ApiError):
        return None
    status, detail = exc.status_code, _detail(exc.body)
    if status in (401, 403):
        if "legacy token" in detail.lower():
            hint = f"set {KEY_SETTINGS} to a personal access token (Label Studio: Account & Settings), or enable legacy tokens for the organization (Organization > API Tokens Settings)"
        else:
            hint = f"set {KEY_SETTINGS} to a key of this server: a personal access token (Account & Settings), or a legacy token where the organization enables them"
        problem = f"the API key was refused (HTTP {status}: {detail})" if connecting or status == 401 else f"forbidden (HTTP 403: {detail})"
        return LabelStudioError(what, problem, hint)
    if status is None or status < 400:  # an answer that is not JSON: not Label Studio, or not its API root
        return LabelStudioError(what, f"{url} does not answer like Label Studio's API (HTTP {status})", f"set {URL_SETTING} to the server's root URL")
    if status == 404 and connecting:
        return LabelStudioError(what, f"no Label Studio API at {url} (HTTP 404)", f"set {URL_SETTING} to the server's root URL")
    if status < 500:
        return LabelStudioError(what, f"Label Studio refused the request (HTTP {status}: {detail})")
    if connecting:
        return LabelStudioError(what, f"the server failed (HTTP {status}: {detail})", "see Label Studio's log; try again later")
    return None


def _detail(body: Any) -> str:
    """The server's reason, short and without secrets."""
    if isinstance(body, dict):  # {"detail": "Validation error", "validation_errors": {"label_config": ["..."]}}
        errors = body.get("validation_errors")
        if isinstance(errors, dict) and errors:
            body = "; ".join(f"{field}: {' '.join(map(str, why)) if isinstance(why, list) else why}" for field, why in errors.items())
        else:
            body = body.get("detail") or errors or body
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    text = re.sub(r"<[^>]+>", " ", text)  # an HTML error page
    text = " ".join(text.split())
    return mask_secrets(text[:300] + ("..." if len(text) > 300 else "")) or "no reason given"
