"""Regenerate the settings table of docs/settings.md (linked from the README) from ``Settings``
(between its two marker lines).

    .venv/bin/python scripts/readme_settings.py          # rewrite docs/settings.md
    .venv/bin/python scripts/readme_settings.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def with_table(text: str, table: str) -> str:
    """``text`` with the lines between the markers replaced by ``table``."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {README}: no {BEGIN} / {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    from sentiment.settings import settings_markdown

    current = README.read_text(encoding="utf-8")
    wanted = with_table(current, settings_markdown())
    if "--check" in argv:
        if current != wanted:
            print(f"error: {README.name}: the settings table is out of date: run scripts/readme_settings.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
