"""Self-contained HTML from tweetsent's Markdown reports: every image inline (base64), no network,
readable by anyone with a browser. Handles the Markdown the reports write: headings, paragraphs,
``- `` lists, pipe tables, images, ``**bold**`` and ``code``."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_IMAGE = re.compile(r"!\[([^\]]*)\]\((<[^>]+>|[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
STYLE = """body{font-family:system-ui,sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num,th.num{text-align:right}img{max-width:100%;border:1px solid #eee;margin:.5em 0}h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 3px}"""
#: Marks the body with how many images decoded (data-images-loaded) once the page has loaded: a
#: headless browser's DOM dump then shows whether every inline image rendered.
CHECK = (
    "<script>window.addEventListener('load',function(){var i=document.images,n=0;for(var k=0;k<i.length;k++){if(i[k].naturalWidth>0)n++;}"
    "document.body.setAttribute('data-images-loaded',n+'/'+i.length);});</script>"
)


def _inline(text: str, folder: Path) -> str:
    def image(match: re.Match) -> str:
        alt, target = match.group(1), match.group(2).strip("<>")
        path = (folder / target) if not Path(target).is_absolute() else Path(target)
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>'
        return f"<em>(missing image: {html.escape(target)})</em>"

    parts, last = [], 0
    for match in _IMAGE.finditer(text):
        parts.append(_format(text[last:match.start()]))
        parts.append(image(match))
        last = match.end()
    parts.append(_format(text[last:]))
    return "".join(parts)


def _format(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def _cells(line: str) -> list[str]:
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    cells, current, escaped = [], "", False
    for ch in body:
        if ch == "|" and not escaped:
            cells.append(current.strip())
            current = ""
        else:
            current += ch
        escaped = ch == "\\" and not escaped
    cells.append(current.strip())
    return [c.replace("\\|", "|") for c in cells]


def markdown_to_html(markdown: str, folder: Path, title: str) -> str:
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 4)
            out.append(f"<h{level}>{_inline(line[level:].strip(), folder)}</h{level}>")
        elif line.strip().startswith("|") and i + 1 < len(lines) and set(lines[i + 1].replace("|", "").replace(":", "").strip()) <= {"-"}:
            header, aligns = _cells(line), _cells(lines[i + 1])
            numeric = [a.endswith(":") for a in aligns]
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            head = "".join(f'<th class="{"num" if n else ""}">{_inline(h, folder)}</th>' for h, n in zip(header, numeric + [False] * len(header)))
            body = "".join("<tr>" + "".join(f'<td class="{"num" if n else ""}">{_inline(c, folder)}</td>' for c, n in zip(r, numeric + [False] * len(r))) + "</tr>" for r in rows)
            out.append(f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:], folder)}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.strip():
            para = [line]
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].startswith(("#", "|", "- ")):
                i += 1
                para.append(lines[i])
            out.append(f"<p>{_inline(' '.join(para), folder)}</p>")
        i += 1
    body = "\n".join(out)
    return f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style>{CHECK}</head>\n<body>\n{body}\n</body></html>\n'


def write_html_beside(markdown_path: Path, title: str) -> Path:
    """``report.md`` -> ``report.html`` (images inlined), written atomically."""
    target = Path(markdown_path).with_suffix(".html")
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(markdown_to_html(Path(markdown_path).read_text(encoding="utf-8"), Path(markdown_path).parent, title), encoding="utf-8")
    partial.replace(target)
    return target
