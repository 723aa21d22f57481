"""The help articles: which exist, in which language, and the search over them.

One Markdown file per article and language, ``articles/<language>/<slug>.md``; its first
line is the title (``# ...``), a blank line, then the body (see :mod:`markup`). English is
the reference: an article missing in the reader's language is shown in English. The order
of :data:`ARTICLES` is the order of the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final
import unicodedata

from companion_server.help import markup
from companion_server.i18n import DEFAULT_LANGUAGE, LANGUAGES

if TYPE_CHECKING:
    from markupsafe import Markup

ARTICLE_DIR: Final = Path(__file__).parent / "articles"
# Slug: who it is written for (the index groups by it).
ARTICLES: Final = {
    "register-box": "installers",
    "serv-e-go": "installers",
    "remote-service": "installers",
    "tickets": "everyone",
    "customer-account": "customers",
}
MAX_QUERY: Final = 100


@dataclass(frozen=True, slots=True)
class Article:
    """One article in one language."""

    slug: str
    language: str
    title: str
    summary: str  # the first paragraph, as plain text
    body: Markup
    text: str  # title and body folded for the search


def fold(text: str) -> str:
    """Lower case without accents: "Réparer" finds "reparer" and the other way round."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _parse(slug: str, language: str, source: str) -> Article:
    head, _, body = source.partition("\n")
    if not head.startswith("# "):
        raise ValueError(f"{language}/{slug}.md must start with '# title'")
    title = head[2:].strip()
    plain = markup.plain(body)
    summary = next((p.strip() for p in plain.split("\n\n") if p.strip()), "")
    return Article(
        slug=slug,
        language=language,
        title=title,
        summary=" ".join(summary.split()),
        body=markup.render(body),
        text=fold(f"{title}\n{plain}"),
    )


@cache
def article(slug: str, language: str) -> Article | None:
    """The article in this language, else in English; None when there is no such article."""
    if slug not in ARTICLES:
        return None
    for code in (language, DEFAULT_LANGUAGE):
        path = ARTICLE_DIR / code / f"{slug}.md"
        if code in LANGUAGES and path.is_file():
            return _parse(slug, code, path.read_text(encoding="utf-8"))
    return None


def all_articles(language: str) -> list[Article]:
    """Every article, in the index's order, each in the reader's language where it exists."""
    return [a for slug in ARTICLES if (a := article(slug, language)) is not None]


def search(language: str, query: str) -> list[Article]:
    """Articles holding every word of the query in their title or body; title matches first.

    An article matches in the reader's language or in English (a term the reader knows from
    the English pages finds it too).
    """
    words = fold(" ".join(query.split())[:MAX_QUERY]).split()
    if not words:
        return all_articles(language)

    def matches(found: Article) -> bool:
        english = article(found.slug, DEFAULT_LANGUAGE)
        return any(
            all(w in text for w in words) for text in (found.text, english.text if english else "")
        )

    found = [a for a in all_articles(language) if matches(a)]
    return sorted(found, key=lambda a: not all(w in fold(a.title) for w in words))
