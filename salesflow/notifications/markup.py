"""The HTML part of an e-mail whose stored body is Markdown: the small subset our messages use.

Paragraphs separated by blank lines, lists of "- " lines, links written as bare URLs.
Everything is escaped first; nothing a person typed (a customer name) can become markup.
"""
import re

from django.utils.html import escape, urlize

_STYLE_P = "margin:0 0 12px 0"
_STYLE_UL = "margin:0 0 12px 0;padding-left:20px"


def markdown_html(text: str, *, link: str = "", ref: str = "") -> str:
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    parts = []
    for block in blocks:
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        items = [line[2:] for line in lines if line.startswith("- ")]
        if items and len(items) == len(lines):
            parts.append(f'<ul style="{_STYLE_UL}">' + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
        else:
            parts.append(f'<p style="{_STYLE_P}">' + "<br>".join(escape(line) for line in lines) + "</p>")
    if link:
        parts.append(f'<p style="{_STYLE_P}">{urlize(escape(link))}</p>')
    if ref:
        parts.append(f'<p style="{_STYLE_P};color:#666">[{escape(ref)}]</p>')
    return '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">' + "".join(parts) + "</body></html>"
