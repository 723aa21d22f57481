"""Translations: complete catalogues, language negotiation and choice."""

from __future__ import annotations

import json
import re

import pytest

from companion_server.i18n import CATALOGUE_DIR, LANGUAGES, negotiate, translator
from companion_server.i18n.extract import message_ids, missing
from tests.companion.helpers import PortalClient

PARAM = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_catalogue_is_complete_and_consistent(language: str) -> None:
    catalogue = json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    ids = message_ids()
    assert len(ids) > 150
    assert missing(language) == []
    assert sorted(set(catalogue) - ids) == [], "stale entries"
    for message, translation in catalogue.items():
        assert sorted(PARAM.findall(message)) == sorted(PARAM.findall(translation)), message
        assert translation.strip(), message
    translated = sum(1 for message, translation in catalogue.items() if message != translation)
    assert translated > 0.9 * len(catalogue)


def test_validation_errors_are_extracted() -> None:
    ids = message_ids()
    for message in (
        "Enter a valid e-mail address.",
        "The password must have at least 10 characters.",
        "This link is invalid, has already been used or has expired.",
        "A company has at most two administrators.",
        "You cannot delete yourself.",
    ):
        assert message in ids


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE, es;q=0.5, sk;q=0.7", "sk"),
        ("sk_SK", "sk"),
        ("en;q=0.1, es", "es"),
        ("de, it", "en"),
        ("fr;q=0, es;q=0.2", "es"),
        ("fr;q=abc", "en"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_translator_formats_and_falls_back() -> None:
    assert translator("fr")("Hello {name},", name="Zoé") == "Bonjour Zoé,"
    assert translator("xx")("Log in") == "Log in"
    assert translator("sk")("not a message id") == "not a message id"


async def test_browser_language_then_choice(client: PortalClient) -> None:
    page = await client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert '<html lang="es">' in page.raw and "Iniciar sesión" in page.text
    page = await client.post("/language", {"language": "sk", "next": "/login"})
    assert (page.status, page.location) == (303, "/login")
    page = await client.get("/login", headers={"Accept-Language": "es"})
    assert "Prihlásiť sa" in page.text  # the choice wins over the browser
    page = await client.post("/language", {"language": "xx", "next": "https://evil.example/"})
    assert page.location == "/"
    for language, title in (
        ("fr", "Cette page n'existe pas."),
        ("en", "This page does not exist."),
    ):
        await client.post("/language", {"language": language, "next": "/"})
        page = await client.get("/no-such-page")
        assert page.status == 404 and title in page.text
