"""Turn pydantic validation errors into sentences a content editor can act on.

Pydantic's own messages ("Input should be 'fun', 'work_style' or ...") are written for
programmers; content is often edited by program admins, so we say what is wrong in their terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any


def root_causes(errors: list[Any]) -> list[Any]:
    """Drop "list too short" errors that only happened because items inside it were invalid."""
    broken_prefixes = {tuple(error["loc"][:i]) for error in errors for i in range(len(error["loc"]))}
    return [error for error in errors if not (error["type"] == "too_short" and tuple(error["loc"]) in broken_prefixes)]


_QUOTED = re.compile(r"'([^']*)'")


Describer = Callable[[str, Any, dict[str, Any]], str | None]


def _missing(field: str, _value: Any, _ctx: dict[str, Any]) -> str:
    """A required key is absent."""
    return f"missing required field '{field}'"


def _extra(field: str, _value: Any, _ctx: dict[str, Any]) -> str:
    """Unknown keys are usually typos."""
    return f"unknown field '{field}' (check the spelling)"


def _own_message(_field: str, _value: Any, ctx: dict[str, Any]) -> str | None:
    """Our validators already word their message for editors: pass it through."""
    return str(ctx["error"]) if "error" in ctx else None


def _not_a_choice(field: str, value: Any, ctx: dict[str, Any]) -> str:
    """List the allowed choices plainly instead of pydantic's "Input should be ..."."""
    choices = ", ".join(_QUOTED.findall(str(ctx.get("expected", ""))))
    return f"{field} {value!r} is not one of {choices}"


def _bad_slug(field: str, value: Any, _ctx: dict[str, Any]) -> str:
    """Ids follow the slug pattern; show an example instead of the regex."""
    return f"{field} {value!r} must be a lowercase slug such as 'fun-007' (letters, digits, '-' or '_')"


def _too_short(field: str, _value: Any, ctx: dict[str, Any]) -> str:
    """A list with too few entries."""
    return f"{field} must list at least {ctx.get('min_length', 1)} entry"


def _empty(field: str, _value: Any, _ctx: dict[str, Any]) -> str:
    """An empty string where text is needed."""
    return f"{field} must not be empty"


def _not_text(field: str, value: Any, _ctx: dict[str, Any]) -> str | None:
    """YAML turns yes/no into booleans and a bare key into null; say so, since the file looks right."""
    if isinstance(value, bool):
        return f"{field} must be text, but YAML read it as {value}; put the value in quotes"
    if value is None:
        return f"{field} must not be empty"
    return None


_DESCRIBERS: dict[str, Describer] = {
    "missing": _missing,
    "extra_forbidden": _extra,
    "value_error": _own_message,
    "assertion_error": _own_message,
    "enum": _not_a_choice,
    "literal_error": _not_a_choice,
    "string_pattern_mismatch": _bad_slug,
    "too_short": _too_short,
    "string_too_short": _empty,
    "string_type": _not_text,
}


def describe_error(error: Any) -> str:
    """Turn one pydantic error into a sentence a content editor can act on."""
    loc: Sequence[int | str] = error["loc"]
    field = next((part for part in reversed(loc) if isinstance(part, str)), "entry")
    describe = _DESCRIBERS.get(error["type"])
    text = describe(field, error.get("input"), error.get("ctx") or {}) if describe else None
    return text if text is not None else f"{field}: {error['msg']}"
