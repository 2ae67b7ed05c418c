"""Settings of the live sources (X API v2 and Bluesky search pulls) and of the Jetstream stream:
one part of :class:`sentiment.settings.Settings`, which inherits them. Tokens and passwords are
never settings (Prefect Secret blocks or the environment)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def check_http_url(value: str | None, name: str) -> str | None:
    """An http(s) base URL without its trailing slash, or ValueError naming the variable."""
    if value is None:
        return None
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise ValueError(f"TWEETSENT_{name.upper()}={value!r} is not an http(s) URL (e.g. https://api.x.com)")
    return value


class SourceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWEETSENT_", extra="ignore", validate_default=True)

    # --- live sources: x:QUERY and bluesky:QUERY (tokens come from Prefect Secret blocks or the environment, never from here) ---
    pull_sources: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Live queries the ingest flow pulls when it is given no paths or source, e.g. "
        "'x:@delta -is:retweet; bluesky:delta airlines' (separated by ';' or new lines, or a JSON list).",
    )
    pull_max_posts: int = Field(1000, ge=1, description="Most posts one run pulls per query; the rest wait for the next run (the cursor keeps the place).")
    pull_page_size: int = Field(100, ge=10, le=100, description="Posts asked for per API request (X: max_results, Bluesky: limit).")
    pull_timeout_s: float = Field(30.0, gt=0, description="Seconds to wait for an API response before counting the request as failed.")
    pull_retries: int = Field(4, ge=0, le=20, description="Retries of a request after a 5xx answer, a timeout or a lost connection, with doubling waits.")
    pull_backoff_s: float = Field(2.0, ge=0, description="Wait before the first retry of a failed API request (doubles each retry).")
    pull_max_wait_s: float = Field(
        60.0, ge=0, description="When an API's rate limit resets within this many seconds, wait for it; later resets end the pull (the next run resumes)."
    )
    pull_overlap_s: float = Field(
        60.0, ge=0, description="Bluesky: each pull looks this far back before the newest post already stored, for posts the AppView indexed late."
    )
    x_api_url: str = Field("https://api.x.com", description="Base URL of the X API v2 (bearer token: Secret block tweetsent-x-bearer-token or TWEETSENT_X_BEARER_TOKEN).")
    bluesky_api_url: str = Field("https://public.api.bsky.app", description="Base URL of the Bluesky AppView that answers app.bsky.feed.searchPosts.")
    bluesky_handle: str | None = Field(
        None,
        description="Log in to Bluesky as this handle (app password: Secret block tweetsent-bluesky-app-password or "
        "TWEETSENT_BLUESKY_APP_PASSWORD) to page with cursors; without it pulls page back in time.",
    )
    bluesky_auth_url: str | None = Field(
        None, description="Bluesky server to log in to (the handle's PDS). Default: https://bsky.social with the public AppView, else bluesky_api_url."
    )
    # --- real time: Bluesky's Jetstream, matched posts stored and scored in micro-batches ---
    jetstream_url: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe", description="Jetstream WebSocket endpoint `tweetsent stream` follows (any public instance: cursors are shared)."
    )
    stream_keywords: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Keywords the stream flow matches when given none, e.g. 'delta; united airlines' (separated by ';', ',' or new lines)."
    )
    stream_lang: str | None = Field("en", description="Keep only streamed posts declaring this language (en takes en-US); empty: every language.")
    stream_batch_posts: int = Field(100, ge=1, le=10_000, description="A stream micro-batch is stored and scored at this many matched posts, or after stream_batch_seconds.")
    stream_batch_seconds: float = Field(1.0, gt=0, le=600, description="Longest wait before the posts matched so far are stored and scored.")
    stream_max_queue: int = Field(
        5000, ge=10, description="Matched posts waiting to be stored before reading pauses (the server's buffer holds the rest, or it drops us and we resume from the cursor)."
    )
    stream_rewind_s: float = Field(5.0, ge=0, le=3600, description="On (re)connect, resume this many seconds before the cursor; posts seen twice are dropped by id.")
    stream_backoff_s: float = Field(1.0, gt=0, description="Wait before reconnecting after a lost connection (doubles each failure, up to stream_max_backoff_s).")
    stream_max_backoff_s: float = Field(60.0, gt=0, description="Longest wait between reconnection attempts.")
    stream_connect_attempts: int = Field(
        6, ge=1, description="Failed connections in a row, before the first one succeeds, after which the stream gives up with an error."
    )
    stream_minutes: float = Field(10.0, gt=0, description="How long one run of the stream flow follows Jetstream (schedule runs back to back with stream_cron).")
    stream_cron: str | None = Field(None, description="Cron schedule of the stream deployment, e.g. '*/10 * * * *' with stream_minutes 10 (empty: by hand).")
    @field_validator("pull_sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            from sentiment.data.sources.live.names import split_source_list

            value = split_source_list(value)
        return value

    @field_validator("pull_sources")
    @classmethod
    def _check_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from sentiment.data.sources.live.names import parse_live_source

        for item in value:
            parse_live_source(item, what="TWEETSENT_PULL_SOURCES")
        return tuple(value)

    @field_validator("stream_keywords", mode="before")
    @classmethod
    def _split_keywords(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for line in value.splitlines() for chunk in line.split(";") for part in chunk.split(",") if part.strip()]
        return value

    @field_validator("jetstream_url")
    @classmethod
    def _check_jetstream_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("ws://", "wss://")) or len(value) <= len("wss://"):
            raise ValueError(f"TWEETSENT_JETSTREAM_URL={value!r} is not a WebSocket URL (e.g. wss://jetstream2.us-east.bsky.network/subscribe)")
        return value

    @field_validator("stream_lang")
    @classmethod
    def _check_stream_lang(cls, value: str | None) -> str | None:
        value = (value or "").strip().lower()
        if not value:
            return None
        if not value.replace("-", "").isalpha() or len(value) > 16:
            raise ValueError(f"TWEETSENT_STREAM_LANG={value!r} is not a language code (e.g. en, pt-BR)")
        return value

    @field_validator("x_api_url", "bluesky_api_url", "bluesky_auth_url")
    @classmethod
    def _check_api_url(cls, value: str | None, info) -> str | None:
        return check_http_url(value, info.field_name)
