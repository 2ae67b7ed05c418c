"""Tests for the synthetic tweet source as a dataset: determinism, fields, labels, timestamps, duplicates, spec checks and writers."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sentiment.data.sources.synthetic import (
    SYNTHETIC_FIELDS,
    SYNTHETIC_LABELS,
    SyntheticSpec,
    _generate_with_true_labels,
    generate_synthetic,
    write_synthetic_csv,
    write_synthetic_jsonl,
)
from sentiment.data.sources.synthetic_templates import AIRLINES as _AIRLINES

REPO_ROOT = Path(__file__).resolve().parents[3]
KEYS = {"id", "text", "created_at", "author", "lang", "topic", "label"}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HANDLE_OF = {name: handle for name, handle, *_ in _AIRLINES}


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- determinism, shape


def test_same_spec_gives_identical_output():
    spec = SyntheticSpec(count=800, seed=5)
    assert list(generate_synthetic(spec)) == list(generate_synthetic(spec))


def test_different_seed_gives_different_output():
    a = list(generate_synthetic(SyntheticSpec(count=300, seed=1)))
    b = list(generate_synthetic(SyntheticSpec(count=300, seed=2)))
    assert a[0]["id"] == "syn1-0000000" and b[0]["id"] == "syn2-0000000"
    same_texts = sum(x["text"] == y["text"] for x, y in zip(a, b, strict=True))
    assert same_texts < 10
    assert [x["created_at"] for x in a] != [y["created_at"] for y in b]


def test_output_is_identical_across_processes():
    """No hash()-based randomness: a fresh interpreter with another hash seed gives the same bytes."""
    spec_src = "SyntheticSpec(count=400, seed=21)"
    here = hashlib.sha256(
        json.dumps(list(generate_synthetic(SyntheticSpec(count=400, seed=21))), ensure_ascii=False).encode()
    ).hexdigest()
    code = (
        "import hashlib, json\n"
        "from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic\n"
        f"rows = list(generate_synthetic({spec_src}))\n"
        "print(hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest())\n"
    )
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


def test_import_has_no_prefect_and_no_side_effects(tmp_path):
    code = (
        "import sys, os\n"
        "before = set(os.listdir('.'))\n"
        "import sentiment.data.sources.synthetic\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'\n"
        "assert set(os.listdir('.')) == before, 'files created'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_count_keys_and_value_types(default_rows):
    assert len(default_rows) == 3000
    for i, row in enumerate(default_rows):
        assert set(row) == KEYS
        assert all(isinstance(v, str) for v in row.values())
        assert row["id"] == f"syn13-{i:07d}"
        assert row["lang"] == "en"
    assert len({r["id"] for r in default_rows}) == 3000


@pytest.mark.parametrize("count", [0, 1, 7])
def test_small_counts(count):
    rows = list(generate_synthetic(SyntheticSpec(count=count)))
    assert len(rows) == count
    assert [r["id"] for r in rows] == [f"syn13-{i:07d}" for i in range(count)]


def test_records_are_independent_dicts():
    rows = list(generate_synthetic(SyntheticSpec(count=3, duplicate_rate=0.5, seed=3)))
    rows[0]["text"] = "changed"
    assert all(r["text"] != "changed" for r in rows[1:])


def test_authors_and_topics(default_rows):
    for row in default_rows:
        assert re.fullmatch(r"[A-Za-z0-9_]{1,15}", row["author"]), row["author"]
        assert row["topic"] in HANDLE_OF
    topics = Counter(r["topic"] for r in default_rows)
    assert len(topics) == 6
    assert min(topics.values()) > 150  # every airline gets a fair share
    authors = Counter(r["author"] for r in default_rows)
    assert len(authors) > 1500  # mostly distinct people ...
    assert authors.most_common(1)[0][1] >= 3  # ... plus some frequent tweeters


# ---------------------------------------------------------------- labels


def test_labels_and_class_shares():
    pairs = list(_generate_with_true_labels(SyntheticSpec(label_noise=0.0)))
    assert {r["label"] for r, _ in pairs} == set(SYNTHETIC_LABELS)
    assert all(r["label"] == true for r, true in pairs)
    shares = Counter(r["label"] for r, _ in pairs)
    n = len(pairs)
    assert shares["negative"] / n == pytest.approx(0.60, abs=0.03)
    assert shares["neutral"] / n == pytest.approx(0.22, abs=0.03)
    assert shares["positive"] / n == pytest.approx(0.18, abs=0.03)


def test_class_shares_with_default_noise(default_rows):
    shares = Counter(r["label"] for r in default_rows)
    assert set(shares) == set(SYNTHETIC_LABELS)
    assert shares["negative"] / 3000 == pytest.approx(0.58, abs=0.03)
    assert shares["neutral"] / 3000 == pytest.approx(0.23, abs=0.03)
    assert shares["positive"] / 3000 == pytest.approx(0.19, abs=0.03)


@pytest.mark.parametrize("noise", [0.04, 0.15])
def test_label_noise_rate_and_texts_unchanged(noise):
    clean = list(generate_synthetic(SyntheticSpec(count=5000, label_noise=0.0)))
    noisy_pairs = list(_generate_with_true_labels(SyntheticSpec(count=5000, label_noise=noise)))
    noisy = [r for r, _ in noisy_pairs]
    # noise changes labels only
    for c, x in zip(clean, noisy, strict=True):
        assert {k: v for k, v in c.items() if k != "label"} == {k: v for k, v in x.items() if k != "label"}
    assert [true for _, true in noisy_pairs] == [c["label"] for c in clean]
    flipped = sum(c["label"] != x["label"] for c, x in zip(clean, noisy, strict=True)) / 5000
    sigma = math.sqrt(noise * (1 - noise) / 5000)
    assert abs(flipped - noise) < 4 * sigma + 0.002
    # a flip always goes to another class, and both other classes are used
    targets = Counter((c["label"], x["label"]) for c, x in zip(clean, noisy, strict=True) if c["label"] != x["label"])
    assert len(targets) == 6


def test_higher_noise_flips_a_superset():
    def flipped(noise):
        return {r["id"] for r, true in _generate_with_true_labels(SyntheticSpec(count=2000, label_noise=noise)) if r["label"] != true}

    low, high = flipped(0.05), flipped(0.2)
    assert low and low < high


# ---------------------------------------------------------------- time


def test_created_at_format_order_and_window(default_rows):
    stamps = [r["created_at"] for r in default_rows]
    assert all(ISO_Z.match(s) for s in stamps)
    assert stamps == sorted(stamps)
    start = datetime(2026, 1, 5)
    times = [parse_ts(s) for s in stamps]
    assert start <= times[0] and times[-1] < start + timedelta(days=7)
    assert len({t.date() for t in times}) == 7
    assert times[-1] - times[0] > timedelta(days=6, hours=12)


def test_daily_rhythm(default_rows):
    hours = Counter(parse_ts(r["created_at"]).hour for r in default_rows)
    day = sum(hours[h] for h in range(9, 19)) / 10
    night = sum(hours[h] for h in range(1, 6)) / 5
    assert day > 4 * night


@pytest.mark.parametrize(
    "start,days",
    [(datetime(2026, 3, 1, 17, 30, 15, 500), 1), (datetime(2025, 12, 31, 23, 0), 3)],
)
def test_custom_window(start, days):
    rows = list(generate_synthetic(SyntheticSpec(count=2000, start=start, days=days)))
    times = [parse_ts(r["created_at"]) for r in rows]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] < start + timedelta(days=days)


# ---------------------------------------------------------------- duplicates


def test_duplicate_rate_repeats_identical_rows():
    rows = list(generate_synthetic(SyntheticSpec(count=4000, duplicate_rate=0.1, seed=8)))
    assert len(rows) == 4000
    by_id: dict[str, dict] = {}
    repeats = 0
    for row in rows:
        if row["id"] in by_id:
            repeats += 1
            assert row == by_id[row["id"]]
        else:
            by_id[row["id"]] = row
    assert repeats / 4000 == pytest.approx(0.1, abs=0.02)
    # unique ids are still the contiguous sequence, and order by created_at holds
    assert sorted(by_id) == [f"syn8-{i:07d}" for i in range(len(by_id))]
    stamps = [r["created_at"] for r in rows]
    assert stamps == sorted(stamps)


def test_no_duplicates_by_default(default_rows):
    assert len({r["id"] for r in default_rows}) == len(default_rows)


# ---------------------------------------------------------------- spec validation


@pytest.mark.parametrize(
    "field,value",
    [
        ("count", -1),
        ("count", 2.5),
        ("count", "10"),
        ("seed", "x"),
        ("days", 0),
        ("days", -3),
        ("start", "2026-01-05"),
        ("label_noise", -0.01),
        ("label_noise", 0.5),
        ("label_noise", float("nan")),
        ("duplicate_rate", 1.0),
        ("duplicate_rate", -0.2),
    ],
)
def test_invalid_spec_raises_naming_field(field, value):
    with pytest.raises(ValueError, match=rf"SyntheticSpec\.{field}\b.*{re.escape(repr(value))}"):
        SyntheticSpec(**{field: value})


def test_valid_edge_specs():
    assert SyntheticSpec(count=0, days=1, label_noise=0.0, duplicate_rate=0.0).count == 0
    assert SyntheticSpec(label_noise=0.49, duplicate_rate=0.99).label_noise == 0.49


def test_generate_rejects_non_spec():
    with pytest.raises(TypeError):
        list(generate_synthetic({"count": 3}))


# ---------------------------------------------------------------- writers


@pytest.fixture(scope="module")
def writer_spec() -> SyntheticSpec:
    return SyntheticSpec(count=2500, seed=4, duplicate_rate=0.02)


def test_csv_round_trip(tmp_path, writer_spec):
    path = tmp_path / "out" / "synthetic.csv"
    expected = list(generate_synthetic(writer_spec))
    assert write_synthetic_csv(path, writer_spec) == len(expected) == 2500
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        assert header == ["id", "text", "created_at", "label", "author", "lang", "topic"]
        assert tuple(header) == SYNTHETIC_FIELDS
        back = [dict(zip(header, row, strict=True)) for row in reader]
    assert back == expected
    # the hard cases really were in there
    texts = [r["text"] for r in back]
    assert any("," in t for t in texts)
    assert any('"' in t for t in texts)
    assert any("\n" in t for t in texts)


def test_csv_round_trip_with_pandas(tmp_path, writer_spec):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "synthetic.csv"
    write_synthetic_csv(path, writer_spec)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(frame.columns) == list(SYNTHETIC_FIELDS)
    assert frame.to_dict("records") == list(generate_synthetic(writer_spec))


def test_jsonl_round_trip(tmp_path, writer_spec):
    path = tmp_path / "synthetic.jsonl"
    expected = list(generate_synthetic(writer_spec))
    assert write_synthetic_jsonl(path, writer_spec) == 2500
    raw = path.read_text(encoding="utf-8")
    lines = raw.split("\n")
    assert lines[-1] == "" and len(lines) == 2501  # one object per line, newline-terminated
    back = [json.loads(line) for line in lines[:-1]]
    assert back == expected
    assert "😡" in raw or "😍" in raw  # ensure_ascii=False: emoji written as UTF-8, not \\u escapes
    assert "\\ud83d" not in raw


def test_writers_accept_str_paths_and_empty_specs(tmp_path):
    csv_path, jsonl_path = tmp_path / "e.csv", tmp_path / "e.jsonl"
    assert write_synthetic_csv(str(csv_path), SyntheticSpec(count=0)) == 0
    assert csv_path.read_text(encoding="utf-8").strip() == "id,text,created_at,label,author,lang,topic"
    assert write_synthetic_jsonl(str(jsonl_path), SyntheticSpec(count=0)) == 0
    assert jsonl_path.read_text(encoding="utf-8") == ""

