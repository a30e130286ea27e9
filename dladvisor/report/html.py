"""A self-contained `report.html`: the Markdown report converted to HTML, its plots embedded as data URIs.

For readers without GitHub: one file to attach to an e-mail or open from a shared drive.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5;
       color: #1f2328; max-width: 900px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
img { max-width: 100%; height: auto; }
code { background: #eff1f3; padding: .1em .3em; border-radius: 4px; font-size: 90%; }
details { border: 1px solid #d0d7de; border-radius: 6px; padding: .4em .8em; margin: .6em 0; }
summary { cursor: pointer; font-size: 1.1em; }
blockquote { color: #59636e; border-left: .25em solid #d0d7de; margin: 0; padding: 0 1em; }
"""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def render_html(markdown_text: str, folder: Path, *, title: str) -> str:
    """Convert the report's Markdown to one HTML page; images under `folder` are inlined as base64 PNG."""
    import markdown  # lazy: only report writing needs it

    def inline(match: re.Match) -> str:
        path = Path(folder) / match.group(2)
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{match.group(1)}](data:image/png;base64,{data})"

    text = _IMAGE.sub(inline, markdown_text)
    # `md_in_html` lets Markdown inside <details markdown="1"> render, as GitHub does after a blank line
    text = text.replace("<details>", '<details markdown="1">')
    body = markdown.markdown(text, extensions=["tables", "fenced_code", "md_in_html", "sane_lists"])
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
