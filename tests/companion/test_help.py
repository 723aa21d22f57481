"""The help articles: search in every language, odd queries, unknown articles, safe markup."""

from __future__ import annotations

from pathlib import Path
import re

from companion_server.help import library, markup
from companion_server.i18n import LANGUAGES
from tests.companion.helpers import PortalClient

TEMPLATES = Path(library.__file__).parents[1] / "templates"
# A word each article holds only in its own language (accents dropped on purpose where the
# language has them: the search folds them).
WORDS = {
    "en": ("replacement", "tickets"),
    "es": ("sustitucion", "tickets"),
    "fr": ("telecommande", "remote-service"),
    "sk": ("dialkovy ovladac", "remote-service"),
}


def _slugs(found: list[library.Article]) -> list[str]:
    return [a.slug for a in found]


async def test_search_in_each_language(client: PortalClient) -> None:
    for language, (word, slug) in WORDS.items():
        page = await client.get("/help", params={"q": word}, headers={"Accept-Language": language})
        assert page.status == 200, language
        assert f'data-article="{slug}"' in page.text, (language, word)
        assert f'<html lang="{language}">' in page.text
        # A word of another language finds nothing (English aside, the fallback).
        other = "sustitucion" if language != "es" else "telecommande"
        if language not in ("en", "es"):
            assert not library.search(language, other), language
    # The fallback: the English term finds the article for a Slovak reader, in Slovak.
    (found,) = [a for a in library.search("sk", "replacement") if a.slug == "tickets"]
    assert found.language == "sk"
    # Title matches come first; an empty query lists every article in the index's order.
    assert _slugs(library.search("en", "customer account"))[0] == "customer-account"
    assert _slugs(library.search("fr", "  ")) == list(library.ARTICLES)


async def test_odd_queries_answer_and_escape(client: PortalClient) -> None:
    for query in (
        "x" * 5000,
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "žltý 🦊 ﷽ \u0301\u200b",
        "%00 ' OR 1=1 --",
        "{{ 7*7 }}",
    ):
        page = await client.get("/help", params={"q": query})
        assert page.status == 200, query
        # ``raw``: the page as sent (``text`` has its entities decoded).
        assert "<script>alert" not in page.raw and "<img src=x" not in page.raw
        assert "49" not in re.findall(r'value="([^"]*)"', page.raw)
    page = await client.get("/help", params={"q": "<b>tickets</b>"})
    assert "&lt;b&gt;tickets&lt;/b&gt;" in page.raw
    page = await client.get("/help", params={"q": "x" * 5000})
    assert 'value="' + "x" * library.MAX_QUERY + '"' in page.raw


async def test_unknown_article_is_a_translated_404(client: PortalClient) -> None:
    english = await client.get("/help/no-such-article")
    assert english.status == 404
    for slug in ("no-such-article", "..%2Fviews.py", "tickets.md", "TICKETS", "%00"):
        page = await client.get(f"/help/{slug}", headers={"Accept-Language": "sk"})
        assert page.status == 404, slug
        assert '<html lang="sk">' in page.text and page.text != english.text
    page = await client.get("/help/tickets", headers={"Accept-Language": "fr"})
    assert page.status == 200 and "<h1>Tickets : demander" in page.text
    assert '<a href="/customer">espace client</a>' in page.text


def test_every_article_in_every_language() -> None:
    for slug in library.ARTICLES:
        for language in LANGUAGES:
            path = library.ARTICLE_DIR / language / f"{slug}.md"
            assert path.is_file(), path
            found = library.article(slug, language)
            assert found is not None and found.language == language
            assert found.title and found.summary and str(found.body)
    files = {p.stem for p in library.ARTICLE_DIR.rglob("*.md")}
    assert files == set(library.ARTICLES)  # no article left out of the index


def test_every_linked_article_exists() -> None:
    """The pages' Help links and the articles' own links lead to articles that exist."""
    linked: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        linked.update(re.findall(r'href="/help/([a-z-]+)"', text))
        for call in re.findall(r"titled\((?:_\(.*?\)|[\w.]+),\s*(.*?)\)\s*}}", text):
            # Its slug argument: the literals it may be, not the tab names it compares.
            linked.update(re.findall(r'(?<!== )"([a-z-]+)"', call))
    for source in library.ARTICLE_DIR.rglob("*.md"):
        linked.update(re.findall(r"\]\(/help/([a-z-]+)\)", source.read_text(encoding="utf-8")))
    assert {"register-box", "serv-e-go", "remote-service", "tickets"} <= linked
    assert linked <= set(library.ARTICLES)


def test_markup_never_lets_html_through() -> None:
    html = str(
        markup.render(
            "<script>alert(1)</script>\n\n"
            "## <img src=x onerror=alert(1)>\n\n"
            "- **<b>bold</b>** and `<i>code</i>`\n"
            "- [off site](https://evil.example) [scheme](javascript:alert(1)) "
            '[protocol-relative](//evil.example) [quote](/a"onclick=x) [ok](/help/tickets)\n'
        )
    )
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "<i>" not in html and " onclick" not in html
    assert html.count("<a ") == 1 and '<a href="/help/tickets">ok</a>' in html
    assert "<strong>&lt;b&gt;bold&lt;/b&gt;</strong>" in html
    assert "<code>&lt;i&gt;code&lt;/i&gt;</code>" in html
    assert "[off site](https://evil.example)" in html
    ordered = str(markup.render("1. one\n2. two\n   continued\n\nAfter."))
    assert ordered == "<ol><li>one</li><li>two continued</li></ol>\n<p>After.</p>"
