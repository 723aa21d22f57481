"""Repair issues in strings.json and every translation follow hassfest's rules.

hassfest (core's ``script/hassfest/translations.py``, ``gen_issues_schema``) wants a title,
and either a description or a fix flow, never both: a fixable issue shows its fix flow, so
its text lives in the flow's first step. The texts themselves follow hassfest's rules for a
translation value, and every language has the same shape and placeholders as English.
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from tests.integration.test_translations import leaves, load

LANGUAGES = ["en", "fr", "es", "sk"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
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
