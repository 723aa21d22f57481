"""Translations: every language has every string, with the same placeholders."""

from __future__ import annotations

import json
from pathlib import Path
import re
import string
from typing import Any

import pytest

COMPONENT = Path(__file__).parents[2] / "custom_components" / "somfy_pro"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LANGUAGES = ["fr", "es", "sk"]


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


@pytest.mark.parametrize("language", LANGUAGES)
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


# hassfest's rules for repair issues (script/hassfest/translations.py, gen_issues_schema): a
# title, and either a description or a fix flow, never both. A fixable issue shows its fix
# flow, so its text lives in the flow's first step.
ISSUE_KEYS = {"title", "description", "fix_flow"}
FLOW_KEYS = {"step", "error", "abort", "progress", "create_entry"}
STEP_KEYS = {"title", "description", "data", "data_description", "menu_options", "submit"}
TRANSLATION_FILES = ["strings.json", *(f"translations/{lang}.json" for lang in LANGUAGES)]


def issue_texts(name: str) -> dict[str, dict[str, Any]]:
    issues: dict[str, dict[str, Any]] = load(name)["issues"]
    return issues


@pytest.mark.parametrize("name", TRANSLATION_FILES)
def test_repair_issues_follow_hassfest(name: str) -> None:
    for key, issue in issue_texts(name).items():
        assert set(issue) <= ISSUE_KEYS, key
        assert issue.get("title"), f"{key}: a repair issue needs a title"
        if "fix_flow" in issue:
            assert "description" not in issue, f"{key}: a fixable issue takes no description"
            flow = issue["fix_flow"]
            assert set(flow) <= FLOW_KEYS, key
            assert flow["step"].get("init", {}).get("description"), (
                f"{key}: the text of a fixable issue is its fix flow's init step description"
            )
            for step_id, step in flow["step"].items():
                assert set(step) <= STEP_KEYS, f"{key}.{step_id}"
                assert set(step.get("data_description", {})) <= set(step.get("data", {})), (
                    f"{key}.{step_id}: data_description key not in data"
                )
        else:
            assert issue.get("description"), f"{key}: an issue without fix flow needs a description"


@pytest.mark.parametrize("name", TRANSLATION_FILES)
def test_repair_issue_texts_are_valid_translations(name: str) -> None:
    for key, text in leaves(issue_texts(name)).items():
        assert text == text.strip(), key
        assert not re.search(r"'\{\w+\}'", text), f"{key}: placeholder inside single quotes"
        assert not re.search(r"<[a-z/][^>]*>", text, re.IGNORECASE), f"{key}: HTML"
        assert not re.search(r"(https?://|www\.)", text, re.IGNORECASE), f"{key}: URL"
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field]
        assert all(field.isidentifier() for field in fields), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_repair_issues_same_shape_and_placeholders(language: str) -> None:
    english = issue_texts("strings.json")
    other = issue_texts(f"translations/{language}.json")
    assert other.keys() == english.keys()
    for key, issue in english.items():
        assert ("fix_flow" in other[key]) == ("fix_flow" in issue), key
        english_leaves, other_leaves = leaves(issue), leaves(other[key])
        assert other_leaves.keys() == english_leaves.keys(), key
        for path, text in english_leaves.items():
            assert set(PLACEHOLDER.findall(other_leaves[path])) == set(PLACEHOLDER.findall(text)), (
                f"{key}.{path}"
            )
