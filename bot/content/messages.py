"""Turn pydantic validation errors into sentences a content editor can act on.

Pydantic's own messages ("Input should be 'fun', 'work_style' or ...") are written for
programmers; content is often edited by program admins, so we say what is wrong in their terms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


def root_causes(errors: list[Any]) -> list[Any]:
    """Drop "list too short" errors that only happened because items inside it were invalid."""
    broken_prefixes = {tuple(error["loc"][:i]) for error in errors for i in range(len(error["loc"]))}
    return [error for error in errors if not (error["type"] == "too_short" and tuple(error["loc"]) in broken_prefixes)]


_QUOTED = re.compile(r"'([^']*)'")


def describe_error(error: Any) -> str:
    """Turn one pydantic error into a sentence a content editor can act on."""
    loc: Sequence[int | str] = error["loc"]
    field = next((part for part in reversed(loc) if isinstance(part, str)), "entry")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required field '{field}'"
    if kind == "extra_forbidden":
        return f"unknown field '{field}' (check the spelling)"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind in ("enum", "literal_error"):
        choices = ", ".join(_QUOTED.findall(str(ctx.get("expected", ""))))
        return f"{field} {value!r} is not one of {choices}"
    if kind == "string_pattern_mismatch":
        return f"{field} {value!r} must be a lowercase slug such as 'fun-007' (letters, digits, '-' or '_')"
    if kind == "too_short":
        return f"{field} must list at least {ctx.get('min_length', 1)} entry"
    if kind == "string_too_short":
        return f"{field} must not be empty"
    if kind == "string_type" and isinstance(value, bool):
        return f"{field} must be text, but YAML read it as {value}; put the value in quotes"
    if kind == "string_type" and value is None:
        return f"{field} must not be empty"
    return f"{field}: {error['msg']}"
