"""Find every message id in the portal's sources (``_("...")`` and ``N_("...")``).

Used by the catalogue test and by translators: ``python -m companion_server.i18n.extract``
prints the ids a catalogue misses.
"""

from __future__ import annotations

import ast
from pathlib import Path
import re
import sys

from companion_server.i18n import LANGUAGES, load_catalogue

PACKAGE = Path(__file__).resolve().parent.parent
# Jinja: _("...") or _('...'), possibly with parameters after the literal.
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
MARKERS = {"_", "N_"}
# Python messages raised as errors / given to forms are ids too.
ERROR_CLASSES = {"NotFound", "Forbidden", "RuleViolation", "ServiceError"}


def _python_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            first = node.args[0]
            if (
                name in MARKERS | ERROR_CLASSES
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                ids.add(first.value)
        # errors["field"] = "message" inside services
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            target = node.targets[0]
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == "errors"
                and isinstance(node.value.value, str)
            ):
                ids.add(node.value.value)
        # dict literals given to ValidationFailed({...})
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "ValidationFailed"
            and node.args
            and isinstance(node.args[0], ast.Dict)
        ):
            for value in node.args[0].values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    ids.add(value.value)
        # require_text(raw, "field", "message", errors)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "require_text"
            and len(node.args) >= 3
            and isinstance(node.args[2], ast.Constant)
            and isinstance(node.args[2].value, str)
        ):
            ids.add(node.args[2].value)
    # Module-level constants named like messages.
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in {"INVALID_LINK"}
            and isinstance(node.value, ast.Constant)
        ):
            ids.add(str(node.value.value))
    return ids


def _unescape(text: str) -> str:
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def message_ids() -> set[str]:
    """Every message id used by templates, mail and Python code."""
    ids: set[str] = set()
    for path in sorted((PACKAGE / "templates").rglob("*")):
        if path.suffix in {".html", ".txt"}:
            for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
                ids.add(_unescape(match.group(1) if match.group(1) is not None else match.group(2)))
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            ids |= _python_ids(path)
    ids.discard("")
    return ids


def missing(language: str) -> list[str]:
    """The ids a language's catalogue lacks."""
    catalogue = load_catalogue(language)
    return sorted(i for i in message_ids() if not catalogue.get(i))


def main() -> int:
    """Print missing ids per language; exit 1 if any."""
    status = 0
    for language in LANGUAGES[1:]:
        for message in missing(language):
            print(f"{language}: {message}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
