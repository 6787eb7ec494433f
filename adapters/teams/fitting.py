"""Fitting Adaptive Cards into Teams' ~28 KB message limit, in bounded time and without losing anything.

A long message becomes several cards (sent one after the other, like Slack's 50-block chunks): every body
element is first cut into pieces small enough to sit in a card on its own (long text at line or word
boundaries, big fact sets and button rows in groups), then the pieces are packed greedily. Every step is
one pass over the elements, so a card is never re-measured in a loop that might not end.
"""

from __future__ import annotations

import json
from typing import Any

# Teams refuses messages over ~28 KB including the activity envelope; keep the card well under that.
MAX_CARD_BYTES = 26_000
MAX_TEXT_CHARS = 3_000  # one TextBlock: ≤ 18 KB even if every character were escaped in JSON
ACTIONS_PER_SET = 5  # Teams shows at most 6 buttons in a row; more go out of sight
FACTS_PER_SET = 25
CONTINUED = "(continued in the next message ⬇)"
SHORTENED = "(shortened to fit in Teams)"
TOO_BIG = "(a part of this message was too big for Teams and is left out)"
ELLIPSIS = "…"
_NOTE_STYLE = {"size": "Small", "isSubtle": True, "wrap": True}


def size_of(value: Any) -> int:
    """Bytes of ``value`` as JSON, as Teams counts them."""
    return len(json.dumps(value, ensure_ascii=False).encode())


def note(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, **_NOTE_STYLE}


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, the ellipsis included."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line or word boundary when there is one."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [p for p in pieces if p] or [text[:limit]]


def _pieces(element: dict[str, Any]) -> list[dict[str, Any]]:
    """``element`` as one or more elements, each small enough for a card of its own."""
    kind = element.get("type")
    if kind == "TextBlock" and len(element.get("text", "")) > MAX_TEXT_CHARS:
        parts = split_text(element["text"])
        return [{**element, "text": part, **({"spacing": "None"} if i else {})} for i, part in enumerate(parts)]
    if kind == "FactSet":
        facts = [
            {"title": trim(str(f.get("title", "")), 200), "value": trim(str(f.get("value", "")), MAX_TEXT_CHARS)}
            for f in element.get("facts", [])
        ]
        return [{**element, "facts": facts[i : i + FACTS_PER_SET]} for i in range(0, len(facts), FACTS_PER_SET)]
    if kind == "ActionSet" and len(element.get("actions", [])) > ACTIONS_PER_SET:
        actions = element["actions"]
        return [
            {**element, "actions": actions[i : i + ACTIONS_PER_SET]} for i in range(0, len(actions), ACTIONS_PER_SET)
        ]
    return [element]


def _choices_within(container: dict[str, Any], room: int) -> dict[str, Any] | None:
    """A drop-down (a Container holding an Input.ChoiceSet) with as many options as fit in ``room``,
    saying how many it shows; halving keeps this to a few measurements."""
    items = container.get("items") or []
    choice = next((i for i in items if i.get("type") == "Input.ChoiceSet"), None)
    if choice is None:
        return None
    every = choice.get("choices") or []
    keep = len(every)
    while keep > 1:
        keep //= 2
        shown = {**choice, "choices": every[:keep]}
        smaller = {
            **container,
            "items": [shown if i is choice else i for i in items]
            + [note(f"Showing the first {keep} of {len(every)} options: Teams can't show more in one message.")],
        }
        if size_of(smaller) <= room:
            return smaller
    return None


def _within(element: dict[str, Any], room: int) -> dict[str, Any]:
    """The element itself when it fits in ``room``, else the biggest smaller version, else a note."""
    if size_of(element) <= room:
        return element
    if element.get("type") == "Container":
        smaller = _choices_within(element, room)
        if smaller is not None:
            return smaller
    if element.get("type") == "TextBlock":  # only a pathologically escaped text gets here
        return {**element, "text": trim(element["text"], room // 8)}
    return note(TOO_BIG)


def _mentions_in(element: dict[str, Any], mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    dumped = json.dumps(element, ensure_ascii=False)
    return [m for m in mentions if m["text"] in dumped]


def paginate(
    body: list[dict[str, Any]], mentions: list[dict[str, Any]], overhead: int, limit: int = MAX_CARD_BYTES
) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """``body`` split into pages whose card (``overhead`` bytes around the body) stays under ``limit``;
    each page carries only the mention entities its text uses. Pages after the first continue the last."""
    room = limit - overhead - size_of(note(CONTINUED)) - 2
    pages: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
    page: list[dict[str, Any]] = []
    used: list[dict[str, Any]] = []
    filled = 0
    for whole in body:
        for piece in _pieces(whole):
            entities = _mentions_in(piece, mentions)
            piece = _within(piece, room - sum(size_of(m) + 1 for m in entities))
            cost = size_of(piece) + 1 + sum(size_of(m) + 1 for m in entities if m not in used)
            if page and filled + cost > room:
                pages.append((page, used))
                page, used, filled = [], [], 0
                cost = size_of(piece) + 1 + sum(size_of(m) + 1 for m in entities)
            page.append(piece)
            used.extend(m for m in entities if m not in used)
            filled += cost
    pages.append((page, used))
    for earlier, _ in pages[:-1]:
        earlier.append(note(CONTINUED))
    return pages


def fit_single(card: dict[str, Any], limit: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """One card that cannot be split (a form, an answered form): long texts are cut to 200 characters in
    one pass; if that is not enough, trailing elements give way to a note saying so. Bounded: every
    element is measured at most once more."""
    if size_of(card) <= limit:
        return card
    for element in card["body"]:
        if element.get("type") == "TextBlock":
            element["text"] = trim(element["text"], 200)
        elif element.get("type") == "FactSet":
            element["facts"] = [
                {"title": trim(f["title"], 100), "value": trim(f["value"], 200)} for f in element["facts"]
            ]
    if size_of(card) <= limit:
        return card
    body = card["body"]
    room = limit - (size_of(card) - size_of(body)) - size_of(note(SHORTENED)) - 2
    kept: list[dict[str, Any]] = []
    filled = 2
    for element in body:
        cost = size_of(element) + 1
        if filled + cost > room:
            break
        kept.append(element)
        filled += cost
    card["body"] = [*kept, note(SHORTENED)]
    return card
