"""A generic CSV with one row of every kind of bad input, plus good rows (bytes, since some rows
are not valid UTF-8). Used by the library, flow and command-line tests."""

from __future__ import annotations

from pathlib import Path

HEADER = b"id,text,created_at,label\n"
GOOD = [
    b'101,"@SkyLarkAir thanks, great crew today!",2026-01-05T10:00:00Z,positive\n',
    b"102,is flight SL123 on time?,2026-01-05 11:00:00 +0000,neutral\n",
    "103,\U0001F621\U0001F621\U0001F621,2026-01-05T12:00:00Z,negative\n".encode(),  # emoji-only: valid
    b"104,no label on this one,2026-01-05T12:30:00Z,\n",
]
BAD = {
    "empty text": b"201,,2026-01-05T13:00:00Z,negative\n",
    "missing id": b",where is my bag,2026-01-05T13:00:00Z,negative\n",
    "unparseable created_at": b"203,late again,yesterday-ish,negative\n",
    "label not in": b"204,meh,2026-01-05T13:00:00Z,angry\n",
    "text longer than": b"205," + b"a" * 10_240 + b",2026-01-05T13:00:00Z,negative\n",
    "NUL byte in text": b"206,nul\x00byte,2026-01-05T13:00:00Z,negative\n",
    "invalid UTF-8": b"207,bad \xff\xfe bytes,2026-01-05T13:00:00Z,negative\n",
    "wrong column count": b"208,too,many,columns,here,negative\n",
}


def write_malformed(path: Path) -> Path:
    path.write_bytes(HEADER + b"".join(GOOD) + b"".join(BAD.values()))
    return path
