"""The Adaptive Card 1.5 rules Tandem's cards must keep, as Teams documents them, checked without a network.

Not the whole JSON schema: the properties each element Tandem uses must (and may) have, unique input ids,
mention entities that match the text, and the size Teams accepts for a whole message activity.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Teams refuses a message activity over about 28 KB (the card plus the envelope).
MAX_ACTIVITY_BYTES = 28_000
_AT = re.compile(r"<at>(.*?)</at>")

_ELEMENTS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, allowed) properties
    "TextBlock": (
        {"text"},
        {"text", "wrap", "size", "weight", "isSubtle", "color", "spacing", "separator", "maxLines"},
    ),
    "FactSet": ({"facts"}, {"facts", "spacing", "separator"}),
    "Image": ({"url"}, {"url", "altText", "size", "spacing", "separator"}),
    "ActionSet": ({"actions"}, {"actions", "spacing", "separator"}),
    "Container": ({"items"}, {"items", "spacing", "separator"}),
    "Input.Text": (
        {"id"},
        {"id", "label", "placeholder", "isMultiline", "maxLength", "value", "isRequired", "errorMessage"},
    ),
    "Input.ChoiceSet": (
        {"id", "choices"},
        {
            "id",
            "label",
            "placeholder",
            "isMultiSelect",
            "style",
            "choices",
            "choices.data",
            "value",
            "isRequired",
            "errorMessage",
            "spacing",
            "separator",
        },
    ),
}
_ACTIONS: dict[str, tuple[set[str], set[str]]] = {
    "Action.Execute": ({"verb"}, {"title", "verb", "data", "style", "associatedInputs"}),
    "Action.OpenUrl": ({"url"}, {"title", "url", "style"}),
}


def problems(card: dict[str, Any]) -> list[str]:
    """Every rule the card breaks (empty when it is fine)."""
    found: list[str] = []
    if card.get("type") != "AdaptiveCard" or card.get("version") != "1.5":
        found.append("not an AdaptiveCard 1.5")
    if not isinstance(card.get("body"), list) or not card["body"]:
        found.append("empty body")
    ids: list[str] = []
    for element in card.get("body") or []:
        found.extend(_element(element, ids))
    for action in card.get("actions") or []:
        found.extend(_action(action))
    if len(ids) != len(set(ids)):
        found.append(f"input ids repeat: {ids}")
    found.extend(_mentions(card))
    return found


def _keys(thing: dict[str, Any], rules: tuple[set[str], set[str]], what: str) -> list[str]:
    required, allowed = rules
    out = [f"{what} lacks {key}" for key in sorted(required - thing.keys())]
    out += [f"{what} has unknown {key}" for key in sorted(thing.keys() - allowed - {"type"})]
    return out


def _element(element: dict[str, Any], ids: list[str]) -> list[str]:
    kind = element.get("type")
    if kind not in _ELEMENTS:
        return [f"unknown element {kind!r}"]
    found = _keys(element, _ELEMENTS[kind], kind)
    if kind == "TextBlock" and not (isinstance(element.get("text"), str) and element["text"].strip()):
        found.append("TextBlock without text")
    if kind == "FactSet":
        facts = element.get("facts") or []
        if not facts or not all(isinstance(f.get("title"), str) and isinstance(f.get("value"), str) for f in facts):
            found.append("FactSet with a fact that is not title/value text")
    if kind == "ActionSet":
        if not element.get("actions"):
            found.append("ActionSet without actions")
        for action in element.get("actions") or []:
            found.extend(_action(action))
    if kind == "Container":
        for item in element.get("items") or []:
            found.extend(_element(item, ids))
    if kind.startswith("Input."):
        ids.append(element.get("id", ""))
    if kind == "Input.ChoiceSet":
        found.extend(_choices(element))
    return found


def _choices(element: dict[str, Any]) -> list[str]:
    found: list[str] = []
    choices = element.get("choices") or []
    if not all(isinstance(c.get("title"), str) and isinstance(c.get("value"), str) for c in choices):
        found.append("a choice that is not title/value text")
    query = element.get("choices.data")
    if query is not None and (query.get("type") != "Data.Query" or not query.get("dataset")):
        found.append("choices.data that is not a Data.Query with a dataset")
    if not choices and query is None:
        found.append("a ChoiceSet with nothing to choose")
    return found


def _action(action: dict[str, Any]) -> list[str]:
    kind = action.get("type")
    if kind not in _ACTIONS:
        return [f"unknown action {kind!r}"]
    found = _keys(action, _ACTIONS[kind], kind)
    if not action.get("title"):
        found.append(f"{kind} without a title")
    return found


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in {"msteams", "data"} for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [value] if isinstance(value, str) else []


def _mentions(card: dict[str, Any]) -> list[str]:
    """Each ``<at>`` tag has exactly one entity (one person), and each entity's tag is in the card."""
    entities = (card.get("msteams") or {}).get("entities") or []
    text = "\n".join(_texts(card.get("body")))
    tags = {f"<at>{m}</at>" for m in _AT.findall(text)}
    by_tag: dict[str, set[str]] = {}
    for entity in entities:
        by_tag.setdefault(entity["text"], set()).add(entity["mentioned"]["id"])
    found = [f"mention {tag} is ambiguous" for tag, people in by_tag.items() if len(people) > 1]
    found += [f"mention {tag} has no entity" for tag in sorted(tags - by_tag.keys())]
    found += [f"entity {tag} is not in the text" for tag in sorted(by_tag.keys() - tags)]
    return found


def activity_size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode())
