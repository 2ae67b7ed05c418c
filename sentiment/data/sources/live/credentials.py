"""Tokens of the live sources: from a Prefect Secret block when it exists, else the environment.

A token is never a setting, a flow parameter or a task input: it is read here, at the moment a
request needs it, and registered with :func:`~sentiment.store.engine.remember_secret` so that every
one-line error and log line built from an exception shows ``***`` in its place.
"""

from __future__ import annotations

import os

from sentiment.store.engine import remember_secret

X_TOKEN_BLOCK = "tweetsent-x-bearer-token"
X_TOKEN_ENV = "TWEETSENT_X_BEARER_TOKEN"
BLUESKY_PASSWORD_BLOCK = "tweetsent-bluesky-app-password"
BLUESKY_PASSWORD_ENV = "TWEETSENT_BLUESKY_APP_PASSWORD"


def _from_block(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``; None when there is no such block or no
    Prefect API to ask (outside a flow run without a server)."""
    if os.environ.get("TWEETSENT_NO_SECRET_BLOCKS") == "1":
        return None
    try:
        from prefect.blocks.system import Secret
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None and not os.environ.get("PREFECT_API_URL"):
            return None  # no server to ask: do not start a temporary one just to find no block
        value = Secret.load(name, _sync=True).get()
    except Exception:  # no such block, or no API: the environment decides
        return None
    return str(value) if value else None


def secret(block: str, env: str) -> tuple[str | None, str]:
    """(the secret, where it came from) — the Secret block first, then the environment variable."""
    value = _from_block(block)
    where = f"Prefect Secret block {block}"
    if not value:
        value = os.environ.get(env) or None
        where = env
    if value:
        remember_secret(value)
    return value, where


def where_to_set(block: str, env: str) -> str:
    return f"set the Prefect Secret block {block} or {env}"
