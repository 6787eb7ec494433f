"""Building HTML where everything is escaped unless it is already HTML.

``Html`` marks text that is markup; ``tag`` escapes every plain string it is given, children and attribute
values alike, so a name or a typed message can never become markup by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape


class Html(str):
    """A string that is markup already: passed through as it is."""

    __slots__ = ()


def text(value: object) -> Html:
    """Any value as escaped text (markup stays visible as characters)."""
    return value if isinstance(value, Html) else Html(escape(str(value), quote=True))


def join(children: Iterable[object]) -> Html:
    out: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int | float):
            out.append(text(child))
        else:  # a list of children
            out.append(join(child))  # type: ignore[arg-type]
    return Html("".join(out))


def tag(name: str, /, *children: object, **attrs: object) -> Html:
    """``<name attrs>children</name>``; a trailing underscore in an attribute name is dropped (``class_``),
    other underscores become hyphens (``data_pane``); True is a bare attribute, None or False leaves it out."""
    parts = [name]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        parts.append(attr if value is True else f'{attr}="{text(value)}"')
    opening = f"<{' '.join(parts)}>"
    if name in ("input", "img", "meta", "br", "link"):
        return Html(opening)
    return Html(f"{opening}{join(children)}</{name}>")
