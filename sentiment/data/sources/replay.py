"""The replay source: a labelled file played back one day at a time by ``created_at``.

Each run of ``ingest --source replay:PATH`` takes the earliest day of the file not yet ingested,
so scheduled nightly runs can be shown on real data. A day's fingerprint is the file's
fingerprint plus the day, so the database remembers which days are done.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sentiment.data.records import SourceBatch
from sentiment.data.sources.file_inputs import FileInput, InputError
from sentiment.data.sources.file_readers import read_file


def day_fingerprint(file_fingerprint: str, day: str) -> str:
    return f"{file_fingerprint}#day={day}"


def split_replay_days(path: Path) -> list[SourceBatch]:
    """One batch per calendar day (UTC) of ``path``, in order.

    Rows whose timestamp is missing or unparseable belong to no day; they ride with the first
    day so that they are validated (and quarantined) exactly once.
    """
    content = read_file(FileInput(path))
    by_day: dict[str, list] = defaultdict(list)
    undated = []
    for record in content.records:
        if record["created_at"] is None:
            undated.append(record)
        else:
            by_day[record["created_at"].date().isoformat()].append(record)
    if not by_day:
        raise InputError(f"{path}: no row has a usable created_at, so it cannot be replayed day by day")
    days = sorted(by_day)
    by_day[days[0]] = undated + by_day[days[0]]
    return [
        SourceBatch(
            source=content.source,
            origin=f"{content.origin} (replay of {day})",  # storable even for a non-UTF-8 name
            fingerprint=day_fingerprint(content.fingerprint, day),
            format=f"replay:{content.format}",
            records=by_day[day],
        )
        for day in days
    ]
