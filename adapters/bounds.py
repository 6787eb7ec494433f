"""Limits every adapter applies at the boundary, before a platform payload reaches anything else.

Both platforms send JSON we did not write: a body can nest 100,000 brackets deep (Python's parser then
overflows its stack) or carry a name longer than any column. These checks run once, where the payload
comes in, so nothing further in needs to worry.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 64  # real activities and Slack payloads nest well under 20


class BadJson(ValueError):
    """The body is not JSON, or nests deeper than any real payload."""


def parse_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses absurd nesting with :class:`BadJson` instead of a RecursionError."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadJson(str(exc)[:200]) from None
    if depth_of(value) > max_depth:
        raise BadJson(f"the JSON nests deeper than {max_depth} levels")
    return value


def depth_of(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (counted without recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
