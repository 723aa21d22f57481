"""Translations: one JSON catalogue per language, English message ids as keys.

Every user-visible string goes through ``_("English text", **params)`` (templates, mail and
validation errors); ``N_`` marks a string to translate later. ``tests/companion/test_i18n.py``
extracts every id from the sources and fails when a catalogue misses one.
"""

from __future__ import annotations

from functools import cache
import json
from pathlib import Path
from typing import Final

LANGUAGES: Final = ("en", "fr", "es", "sk")
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_NAMES: Final = {"en": "English", "fr": "Français", "es": "Español", "sk": "Slovenčina"}
CATALOGUE_DIR: Final = Path(__file__).parent


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it yet."""
    return message


class Translator:
    """Translate message ids into one language, formatting ``{name}`` parameters."""

    def __init__(self, language: str, catalogue: dict[str, str]) -> None:
        """Wrap a catalogue."""
        self.language = language
        self._catalogue = catalogue

    def __call__(self, message: str, /, **params: object) -> str:
        """Return the translation of ``message`` (the message itself when missing)."""
        text = self._catalogue.get(message) or message
        return text.format(**params) if params else text


@cache
def load_catalogue(language: str) -> dict[str, str]:
    """The catalogue of one language (English has none: ids are English)."""
    if language == DEFAULT_LANGUAGE:
        return {}
    path = CATALOGUE_DIR / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def translator(language: str) -> Translator:
    """The translator of a supported language (English for anything else)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return Translator(language, load_catalogue(language))


def normalize(language: str | None) -> str | None:
    """A supported language code from a tag like ``fr-CH``, or None."""
    if not language:
        return None
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """Pick the best supported language from an ``Accept-Language`` header."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = normalize(tag)
        if code is None or quality <= 0:
            continue
        candidate = (quality, -position, code)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE
