"""The self-contained HTML reports (issue 17), opened in headless Chromium as a stakeholder would:
the metrics, every image (inline, decoded) and the slice table render, with no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.ingest import ingest
from flows.nightly import score
from flows.retrain import retrain
from sentiment.settings import Settings
from sentiment.store import daily_reports, evaluation_reports, open_db

pytestmark = pytest.mark.usefixtures("small_model")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test.sh installs it as root)")
    return found


def open_in_browser(page: Path, screenshot: Path) -> str:
    """The DOM after load (``--dump-dom``), and a screenshot to look at."""
    args = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files", "--virtual-time-budget=5000"]
    shot = subprocess.run([*args, f"--screenshot={screenshot}", "--window-size=1200,2400", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout


def test_evaluation_and_daily_html_reports_render_in_chromium(db_env, tmp_path):
    ingest(source="synthetic")
    version = retrain()
    score()
    with open_db(Settings()).connect() as conn:
        evaluation_html = conn.execute(select(evaluation_reports.c.html_path).where(evaluation_reports.c.model_version_id == version["version_id"])).scalars().first()
        daily_html = conn.execute(select(daily_reports.c.html_path).order_by(daily_reports.c.id.desc())).scalars().first()
    page = Path(evaluation_html)
    assert page.is_file() and "http://" not in page.read_text() and "https://" not in page.read_text()  # nothing to fetch
    dom = open_in_browser(page, tmp_path / "evaluation.png")
    loaded = re.search(r'data-images-loaded="(\d+)/(\d+)"', dom)
    assert loaded and loaded.group(1) == loaded.group(2) and int(loaded.group(2)) >= 3, "every inline image decodes (confusion matrix, training curves, reliability)"
    for heading in ("Metrics", "Slices", "Calibration", "Behavioural tests", "Confusion matrix", "Errors", "Global explanation"):
        assert f">{heading}</h2>" in dom, heading
    assert "macro-F1" in dom and dom.count("<tr>") > 10
    daily = open_in_browser(Path(daily_html), tmp_path / "daily.png")
    assert "Sentiment per topic" in daily and "Example tweets per class" in daily
    shown = re.search(r'data-images-loaded="(\d+)/(\d+)"', daily)
    assert shown and shown.group(1) == shown.group(2)
