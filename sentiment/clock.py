"""The one clock of the system: naive UTC, as the database stores it (SQLite has no time-zone type)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now."""
    return datetime.now(UTC).replace(tzinfo=None)
