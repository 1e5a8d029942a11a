"""The pieces every page is made of: escaped text, tables, inline pictures, the document.

Nothing here knows a sweep or a run. `text` is the one way a value reaches a page: a gate named
`<img src=x onerror=alert(1)>` shows as those characters.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 12px 16px; color: #1f2328; max-width: 1200px; }
h1 { font-size: 19px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 4px 0 8px; } .answer { font-size: 18px; font-weight: 600; margin: 6px 0; }
.muted { color: #59636e; font-size: 13px; }
table { border-collapse: collapse; margin: 4px 0 10px; }
th, td { border: 1px solid #d1d9e0; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; } td.name, th.name { text-align: left; }
td.never { color: #59636e; font-style: italic; }
td.partly { background: repeating-linear-gradient(45deg, #eee, #eee 4px, #fff 4px, #fff 8px); }
td.best { outline: 3px solid #d1242f; outline-offset: -3px; }
small { display: block; font-size: 11px; line-height: 1.1; }
.panels { display: flex; flex-wrap: wrap; gap: 0 16px; } .panels p { margin: 6px 0 0; }
img { max-width: 100%; } code, pre { font: 13px ui-monospace, monospace; background: #f6f8fa; }
pre { padding: 6px 8px; white-space: pre-wrap; word-break: break-all; }
@media print { .noprint { display: none; } .pagebreak { break-before: page; } }
"""


def text(value: object) -> str:
    """A value as page text, escaped: the only way a value reaches a page."""
    return html.escape(str(value), quote=True)


def element(tag: str, content: str = "", **attributes: object) -> str:
    """`<tag a="v">content</tag>`, the attributes escaped (`class_` for class); the content is
    markup already."""
    attrs = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{text(v)}"' for k, v in attributes.items() if v is not None
    )
    return f"<{tag}{attrs}>{content}</{tag}>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], names: int = 1) -> str:
    """An HTML table; `header` plain text, each row's cells markup already (`cell`); the first
    `names` columns left-aligned."""
    head = "".join(element("th", text(h), class_="name" if i < names else None) for i, h in enumerate(header))
    body = "".join(element("tr", "".join(rows_cells)) for rows_cells in rows)
    return element("table", element("thead", element("tr", head)) + element("tbody", body))


def cell(content: str, classes: str = "", name: bool = False, style: str | None = None) -> str:
    classes = " ".join(c for c in (classes, "name" if name else "") if c)
    return element("td", content, class_=classes or None, style=style)


def picture(path: Path, alt: str, width: int | None = None) -> str:
    """A PNG inlined as a data URI: the page stays one file."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" alt="{text(alt)}"'
        + (f' width="{width}"' if width else "")
        + ">"
    )


def document(title: str, body: str, script: str = "") -> str:
    """A whole page: nothing loaded from outside it."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{text(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n" + (f"<script>{script}</script>\n" if script else "") + "</body></html>\n"
    )
