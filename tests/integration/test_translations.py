"""Translations: every language has every string, with the same placeholders."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

COMPONENT = Path(__file__).parents[2] / "custom_components" / "somfy_pro"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def leaves(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= leaves(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((COMPONENT / name).read_text(encoding="utf-8"))
    return data


def test_english_is_strings() -> None:
    assert load("translations/en.json") == load("strings.json")


@pytest.mark.parametrize("language", ["fr", "es", "sk"])
def test_language_complete(language: str) -> None:
    english = leaves(load("strings.json"))
    other = leaves(load(f"translations/{language}.json"))
    assert other.keys() == english.keys()
    for key, text in english.items():
        assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), key


def test_icons_cover_translation_keys() -> None:
    icons = load("icons.json")["entity"]
    strings = load("strings.json")["entity"]
    for platform, keys in icons.items():
        assert set(keys) <= set(strings[platform]), platform
