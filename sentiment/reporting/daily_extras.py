"""What the daily report says beyond today's run, from the database: sentiment per topic over the
last 30 days present, the biggest movers (last 7 days against the 23 before), and example tweets
per class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from sentiment.store import scores, tweets

DAYS, RECENT = 30, 7
MIN_TWEETS = 20


def _pct(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "–"


def daily_sections(engine: Engine, model_version_id: int, labels: Sequence[str]) -> list[str]:
    day = func.date(func.coalesce(tweets.c.created_at, tweets.c.ingested_at))
    query = (
        select(day, tweets.c.topic, scores.c.label, func.count())
        .join(scores, scores.c.tweet_id == tweets.c.id)
        .where(scores.c.model_version_id == model_version_id)
        .group_by(day, tweets.c.topic, scores.c.label)
    )
    with engine.connect() as conn:
        rows = [(str(d), t or "(no topic)", lab, n) for d, t, lab, n in conn.execute(query)]
    if not rows:
        return []
    days = sorted({d for d, *_ in rows})[-DAYS:]
    recent = set(days[-RECENT:])
    window = set(days)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    split: dict[tuple[str, bool], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d, topic, label, n in rows:
        if d in window:
            counts[topic][label] += n
            split[(topic, d in recent)][label] += n
    lines = ["## Sentiment per topic", f"Predicted label shares, {days[0]} to {days[-1]} ({len(days)} days with tweets).", "",
             "| topic | tweets | " + " | ".join(labels) + " |", "|---|---:|" + "---:|" * len(labels)]
    for topic, by_label in sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))[:15]:
        total = sum(by_label.values())
        lines.append(f"| {topic.replace('|', '/')[:60]} | {total:,} | " + " | ".join(_pct(by_label[lab], total) for lab in labels) + " |")
    watched = labels[0]
    movers = []
    for topic in counts:
        now, before = split[(topic, True)], split[(topic, False)]
        n_now, n_before = sum(now.values()), sum(before.values())
        if n_now >= MIN_TWEETS and n_before >= MIN_TWEETS:
            movers.append((now[watched] / n_now - before[watched] / n_before, topic, n_now, n_before))
    if movers:
        lines += ["", "## Biggest movers", f"Change in the {watched} share: the last {RECENT} days with tweets against the days before them (topics with at least {MIN_TWEETS} tweets in both).", "",
                  f"| topic | {watched} share change | tweets, last {RECENT} days | tweets before |", "|---|---:|---:|---:|"]
        for change, topic, n_now, n_before in sorted(movers, key=lambda m: -abs(m[0]))[:5]:
            lines.append(f"| {topic.replace('|', '/')[:60]} | {change:+.1%} | {n_now:,} | {n_before:,} |")
    lines += ["", "## Example tweets per class", "The most confident of the newest scored tweets.", ""]
    with engine.connect() as conn:
        for label in labels:
            examples = conn.execute(
                select(tweets.c.text, scores.c.confidence).join(scores, scores.c.tweet_id == tweets.c.id)
                .where(scores.c.model_version_id == model_version_id, scores.c.label == label)
                .order_by(scores.c.scored_at.desc(), scores.c.confidence.desc()).limit(200)
            ).all()
            best = sorted(examples, key=lambda e: -e[1])[:3]
            lines += [f"- **{label}**: " + " · ".join(f"“{' '.join(t.split())[:140]}” ({c:.2f})" for t, c in best)] if best else []
    return lines
