"""The help pages: the index with its search, and one page per article.

Open to everyone, logged in or not: the articles hold no customer data, and the ones about
signing in or a locked account are needed most before one can sign in.
"""

from __future__ import annotations

from aiohttp import web

from companion_server.errors import NotFound
from companion_server.help import library
from companion_server.web import render, visitor

routes = web.RouteTableDef()


@routes.get("/help", allow_head=False)
async def index(request: web.Request) -> web.StreamResponse:
    """Every article, or those matching ``q`` (title and body, the reader's language)."""
    language = visitor(request).language
    query = " ".join(request.query.get("q", "").split())[: library.MAX_QUERY]
    return render(
        request,
        "help/index.html",
        {
            "query": query,
            "articles": library.search(language, query),
            "audiences": library.ARTICLES,
        },
    )


@routes.get("/help/{slug}", allow_head=False)
async def article(request: web.Request) -> web.StreamResponse:
    """One article, in English when it is not written in the reader's language yet."""
    found = library.article(request.match_info["slug"], visitor(request).language)
    if found is None:
        raise NotFound()
    return render(request, "help/article.html", {"article": found})
