"""The ``stream`` flow: follow Bluesky's Jetstream for a window, storing and scoring matching posts
in micro-batches. Schedule it back to back (``TWEETSENT_STREAM_CRON`` with ``stream_minutes``)
or start it by hand; each run resumes from the cursor the last one left."""

from __future__ import annotations

from typing import Any

from prefect import flow

from sentiment.settings import Settings
from tasks.stream import follow_jetstream


@flow(name="stream", log_prints=True)
def stream(keywords: list[str] | None = None, lang: str | None = None, minutes: float | None = None) -> dict[str, Any]:
    """Follow Jetstream: store and score the posts matching the keywords within seconds.

    Args:
        keywords: Words a post must contain (case-insensitive, whole words; hashtags and link URLs count). Empty: TWEETSENT_STREAM_KEYWORDS.
        lang: Keep posts declaring this language ('any' for all). Empty: TWEETSENT_STREAM_LANG.
        minutes: How long this run follows the stream. Empty: TWEETSENT_STREAM_MINUTES.
    """
    settings = Settings()
    return follow_jetstream(settings, keywords, lang, minutes if minutes is not None else settings.stream_minutes)
