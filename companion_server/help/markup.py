"""The small Markdown the help articles are written in, rendered to escaped HTML.

Articles are files of the repository, yet the renderer trusts none of their text: every
character is escaped, and only this subset becomes markup: ``## headings`` (levels 2 and
3; the title is the file's ``# `` line), paragraphs, ``- `` and ``1. `` lists, ``**bold**``,
```code``` and ``[text](/path)`` links to the portal's own pages (an address that does not
start with a single ``/`` stays plain text, so an article can never link off-site or run a
script).
"""

from __future__ import annotations

import re
from typing import Final

from markupsafe import Markup, escape

_INLINE: Final = re.compile(
    r"\*\*(?P<bold>[^*]+)\*\*|`(?P<code>[^`]+)`|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
)
_ORDERED: Final = re.compile(r"\d+\.\s+")
_LOCAL: Final = re.compile(r"/(?!/)[A-Za-z0-9_\-./?=&#%]*")
# Every tag the renderer writes, as constants: no tag is ever built from an article's text.
_HEADINGS: Final = {2: Markup("<h2>%s</h2>"), 3: Markup("<h3>%s</h3>")}
_LISTS: Final = {"ul": Markup("<ul>%s</ul>"), "ol": Markup("<ol>%s</ol>")}


def inline(text: str) -> Markup:
    """One line's text with bold, code and local links; everything else escaped."""
    parts: list[Markup] = []
    position = 0
    for match in _INLINE.finditer(text):
        parts.append(escape(text[position : match.start()]))
        if match["bold"] is not None:
            parts.append(Markup("<strong>%s</strong>") % match["bold"])
        elif match["code"] is not None:
            parts.append(Markup("<code>%s</code>") % match["code"])
        elif _LOCAL.fullmatch(match["href"]):
            parts.append(Markup('<a href="%s">%s</a>') % (match["href"], match["text"]))
        else:
            parts.append(escape(match[0]))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def plain(text: str) -> str:
    """The words a reader sees (what the search looks in): no markers, no addresses."""
    text = _INLINE.sub(lambda m: m["bold"] or m["code"] or m["text"], text)
    return re.sub(r"^\s*(?:#+|-|\d+\.)\s+", "", text, flags=re.MULTILINE)


def render(source: str) -> Markup:
    """The article's body as HTML."""
    html: list[Markup] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            html.append(Markup("<p>%s</p>") % inline(" ".join(paragraph)))
            paragraph.clear()
        if items:
            body = Markup("").join(Markup("<li>%s</li>") % inline(item) for item in items)
            html.append(_LISTS[list_tag] % body)
            items.clear()
            list_tag = ""

    for raw in source.splitlines():
        line = raw.strip()
        ordered = _ORDERED.match(line)
        if not line:
            flush()
        elif line.startswith(("## ", "### ")):
            flush()
            level = 3 if line.startswith("### ") else 2
            html.append(_HEADINGS[level] % inline(line.lstrip("#").strip()))
        elif line.startswith("- ") or ordered:
            tag = "ol" if ordered else "ul"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append(line[ordered.end() :] if ordered else line[2:])
        elif items and raw.startswith("  "):
            items[-1] += " " + line  # a list item continued on the next line
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return Markup("\n").join(html)
