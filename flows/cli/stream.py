"""``tweetsent stream``: follow Bluesky's Jetstream, store and score matching posts within seconds."""

from __future__ import annotations

import re
import signal
import sys
import time
from typing import Annotated, Any

import typer

from flows.cli.common import JsonOpt, load_settings, print_json
from sentiment.errors import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | None, option: str = "--for") -> float | None:
    """``90``, ``90s``, ``10m``, ``1h30m``, ``2d`` as seconds; empty: None (until stopped)."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    elif re.fullmatch(r"(\d+(\.\d+)?[smhd])+", text):
        seconds = sum(float(n) * _UNITS[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)([smhd])", text))
    else:
        raise UserError(f"{option} {value!r}", "not a duration; write e.g. 90s, 10m, 1h30m or a number of seconds")
    if seconds <= 0:
        raise UserError(f"{option} {value!r}", "the duration must be more than 0")
    return seconds


def _line(stats: dict[str, Any]) -> str:
    latency = stats["latency_ms"]
    p95 = f"{latency['p95'] / 1000:.2f} s" if latency["p95"] is not None else "-"
    lag = f"{stats['lag_s']:.1f} s" if stats["lag_s"] is not None else "-"
    return (
        f"seen {stats['seen']:,} · posts {stats['posts']:,} · matched {stats['matched']:,} · stored {stats['stored']:,} · "
        f"scored {stats['scored']:,} · deleted {stats['deleted']:,} · quarantined {stats['quarantined']:,} · "
        f"reconnects {stats['reconnects']} · p95 {p95} · lag {lag}"
    )


def stream(
    keywords: Annotated[list[str] | None, typer.Option("--keywords", "-k", help="A word a post must contain (repeat, or separate with commas). Default: TWEETSENT_STREAM_KEYWORDS.")] = None,
    lang: Annotated[str | None, typer.Option(help="Keep posts declaring this language (en takes en-US); 'any' for all. Default: TWEETSENT_STREAM_LANG (en).")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="How long to follow the stream: 90s, 10m, 1h... Default: until Ctrl-C.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Follow Bluesky's public firehose (Jetstream): store and score matching posts within seconds.

    Resumes where the last run with the same keywords stopped (its cursor, a few seconds earlier);
    Ctrl-C stops after the batch under way is stored."""
    settings = load_settings()
    seconds = parse_duration(for_)
    from sentiment.usecases.streaming import Stream, stream_language

    words = [w for w in (keywords or []) if w.strip()] or list(settings.stream_keywords)
    if not words:
        raise UserError("--keywords", "no keywords: give the words a post must contain (--keywords delta), or set TWEETSENT_STREAM_KEYWORDS")
    language = stream_language(settings, lang)
    settings.ensure_home()
    live = None
    if not json_out and sys.stderr.isatty():
        from rich.console import Console
        from rich.live import Live

        live = Live(console=Console(stderr=True), refresh_per_second=4, transient=False)

    def log(message: str) -> None:
        if live is not None:
            live.console.print(message)
        else:
            typer.echo(message, err=True)

    last_line = [0.0]

    def progress(stats: dict[str, Any]) -> None:
        if live is not None:
            live.update(_line(stats))
        elif not json_out and time.monotonic() - last_line[0] >= 10:
            last_line[0] = time.monotonic()
            typer.echo(_line(stats), err=True)

    runner = Stream(settings, words, language, log=log)
    # The first Ctrl-C (or SIGTERM) ends the run after the batch under way; a second one at once.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum, frame) -> None:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        if live is not None:
            with live:
                stats = runner.run(seconds, progress=progress, progress_every_s=0.25)
        else:
            stats = runner.run(seconds, progress=progress, progress_every_s=1.0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    data = stats.to_dict()
    if json_out:
        print_json(data)
    else:
        typer.echo(f"stream {data['status']} after {data['seconds']:.0f} s: " + _line(data))
