"""Neutral messages and forms rendered as Adaptive Cards 1.5 (plain JSON, no botbuilder needed).

Buttons become ``Action.Execute`` (Universal Actions) so a click comes back as an ``adaptiveCard/action``
invoke and the bot can answer with a replacement card. Teams has no modals, so a form is an input card
whose submit is ``Action.Execute`` with verb ``form:<form_id>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from adapters.teams.signing import CardSigner
from bot.kernel.messages import (
    Actions,
    Button,
    Choice,
    Context,
    Divider,
    FileAttachment,
    Form,
    GroupChatButton,
    Header,
    Image,
    Mention,
    Message,
    RatingInput,
    Section,
    SelectInput,
    Text,
    TextInput,
)
from bot.kernel.safe_text import clean

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
FORM_VERB_PREFIX = "form:"
CHOICE_INPUT_PREFIX = "choice__"
# Teams refuses messages over ~28 KB including the activity envelope; keep the card well under that.
MAX_CARD_BYTES = 26_000
_ELLIPSIS = "…"
# Teams shows these inline (as an Adaptive Card Image with a data: URI) when they fit in the message.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
_NOTE_ROOM = 600  # bytes kept free for the files note when deciding whether an image fits


class FilePlacement(Enum):
    """Where a message's files (other than inline images) go, which decides what the card says of them."""

    BELOW = "below"  # a 1:1 chat: file-consent cards follow the message
    PRIVATE = "private"  # a channel or group chat: the files went to the person's 1:1 chat
    PRIVATE_FAILED = "private_failed"  # ... but that 1:1 chat could not be reached
    NOT_SENT = "not_sent"  # a channel post or an edit: Teams bots cannot share files there


@dataclass(frozen=True)
class RenderedMessage:
    """A message's card and the files that still have to be sent on their own (in order)."""

    card: dict[str, Any]
    files: tuple[FileAttachment, ...]


def files_note(placement: FilePlacement, files: tuple[FileAttachment, ...] | list[FileAttachment]) -> str:
    names = ", ".join(f.filename for f in files)
    if placement is FilePlacement.BELOW:
        if len(files) == 1:
            return f"📎 {names} follows as a file: Teams asks you before saving it to your OneDrive."
        return f"📎 {names} follow as files: Teams asks you before saving each one to your OneDrive."
    if placement is FilePlacement.PRIVATE:
        return f"📎 I've sent {names} to our 1:1 chat."
    if placement is FilePlacement.PRIVATE_FAILED:
        return f"📎 I couldn't send you {names} in our 1:1 chat just now. Please ask me again in a minute."
    return f"📎 {names} can't be attached here: Teams bots share files only in 1:1 chats."


def data_uri(file: FileAttachment) -> str:
    return f"data:{file.mime_type};base64,{file.content_b64}"


def group_chat_link(emails: tuple[str, ...] | list[str], topic: str = "") -> str:
    """The Teams deep link that opens a new group chat; bots cannot create group chats themselves."""
    url = "https://teams.microsoft.com/l/chat/0/0?users=" + ",".join(quote(e, safe="@.") for e in emails)
    if topic:
        url += "&topicName=" + quote(topic, safe="")
    return url


def _text(text: Text, mentions: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for part in text.parts:
        if isinstance(part, Mention):
            tag = f"<at>{part.name}</at>"
            if not any(m["text"] == tag and m["mentioned"]["id"] == part.user_id for m in mentions):
                mentions.append({"type": "mention", "text": tag, "mentioned": {"id": part.user_id, "name": part.name}})
            out.append(tag)
        else:
            out.append(_inert(part))
    return "".join(out)


_LINK = re.compile(r"\]\s*\(")
_WORD_JOINER = "\u2060"  # invisible, but breaks the markup it sits in


def _inert(text: str) -> str:
    """Plain text that card markdown cannot turn into a link or a mention: a name such as
    ``[click](https://evil)`` or ``<at>Everyone</at>`` shows as typed; control and bidi characters go."""
    text = _LINK.sub(lambda m: m.group(0)[:-1] + _WORD_JOINER + "(", clean(text))
    return text.replace("<at", "<" + _WORD_JOINER + "at").replace("</at", "<" + _WORD_JOINER + "/at")


_CODE = re.compile(r"`([^`\n]+)`")


def _lines(text: str, **style: Any) -> list[dict[str, Any]]:
    """One TextBlock per line: Teams does not reliably honour single newlines inside a TextBlock.
    Inline `code` (the core's command usages) is shown in bold, which card markdown supports."""
    text = _CODE.sub(lambda m: f"**{m.group(1)}**", text)
    blocks: list[dict[str, Any]] = []
    for line in text.split("\n"):
        if not line.strip():
            if blocks:
                blocks[-1]["_gap"] = True
            continue
        block: dict[str, Any] = {"type": "TextBlock", "text": line, "wrap": True, **style}
        if blocks:
            block["spacing"] = "Medium" if blocks[-1].pop("_gap", False) else "None"
        blocks.append(block)
    for block in blocks:
        block.pop("_gap", None)
    return blocks or [{"type": "TextBlock", "text": " ", "wrap": True, **style}]


class CardRenderer:
    """Turns neutral messages and forms into Adaptive Card JSON with signed action data."""

    def __init__(self, signer: CardSigner) -> None:
        self.signer = signer

    # --- messages -----------------------------------------------------------------------------------

    def message_card(self, message: Message) -> dict[str, Any]:
        """The card alone, for places where no file is sent: other files are named as not attached."""
        return self.render(message, FilePlacement.NOT_SENT).card

    def render(self, message: Message, placement: FilePlacement) -> RenderedMessage:
        """The card with images inline where they fit in a Teams message, plus the files left to send.

        An image too big for the ~28 KB message limit is sent like any other file; the card says where
        the files went (``placement``)."""
        card = self._text_card(message)
        rest: list[FileAttachment] = []
        for file in message.files:
            if file.mime_type.lower() not in INLINE_IMAGE_TYPES or not _add_image(card, file):
                rest.append(file)
        if rest:
            note = files_note(placement, rest)
            card["body"].append({"type": "TextBlock", "text": note, "size": "Small", "isSubtle": True, "wrap": True})
        return RenderedMessage(card=card, files=tuple(rest))

    def _text_card(self, message: Message) -> dict[str, Any]:
        mentions: list[dict[str, Any]] = []
        body: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        separate = False
        for block in message.blocks:
            if isinstance(block, Divider):
                separate = True
                continue
            elements = self._block(block, mentions, actions)
            if elements and separate:
                elements[0]["separator"] = True
                elements[0]["spacing"] = "Medium"
            separate = separate and not elements
            body.extend(elements)
        if not body:
            body.append({"type": "TextBlock", "text": _inert(message.summary) or " ", "wrap": True})
        card = _card(body, actions, mentions)
        card["fallbackText"] = _inert(message.summary)[:300]
        return fit_card(card, MAX_CARD_BYTES - _NOTE_ROOM if message.files else MAX_CARD_BYTES)

    def _block(
        self, block: Any, mentions: list[dict[str, Any]], card_actions: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if isinstance(block, Header):
            text = _inert(block.text)
            return [{"type": "TextBlock", "text": text, "size": "Large", "weight": "Bolder", "wrap": True}]
        if isinstance(block, Section):
            out = _lines(_text(block.text, mentions))
            if block.fields:
                facts = [{"title": _inert(k), "value": _inert(v)} for k, v in block.fields]
                out.append({"type": "FactSet", "facts": facts})
            return out
        if isinstance(block, Context):
            return _lines(_text(block.text, mentions), size="Small", isSubtle=True)
        if isinstance(block, Image):
            return [{"type": "Image", "url": block.url, "altText": block.alt}]
        if isinstance(block, Actions):
            return self._actions(block, card_actions)
        return []

    def _actions(self, block: Actions, card_actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Buttons go in an ActionSet where they appear; choices become an input plus an execute action."""
        body: list[dict[str, Any]] = []
        row: list[dict[str, Any]] = []
        for element in block.elements:
            if isinstance(element, Button):
                row.append(self._button(element))
            elif isinstance(element, GroupChatButton):
                if element.emails:
                    row.append(
                        {
                            "type": "Action.OpenUrl",
                            "title": element.label,
                            "url": group_chat_link(element.emails, element.topic),
                        }
                    )
                else:  # no UPNs known: a deep link cannot address people by their Teams ids
                    body.append(
                        {
                            "type": "TextBlock",
                            "isSubtle": True,
                            "wrap": True,
                            "text": f"{element.label}: start a group chat from Teams' New chat button.",
                        }
                    )
            elif isinstance(element, Choice):
                input_id = CHOICE_INPUT_PREFIX + element.action_id
                choice: dict[str, Any] = {
                    "type": "Input.ChoiceSet",
                    "id": input_id,
                    "placeholder": element.placeholder,
                    "style": "compact",
                    "choices": [{"title": o.label, "value": o.value} for o in element.options],
                }
                if element.initial:
                    choice["value"] = element.initial
                body.append(choice)
                body.append(
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Execute",
                                "title": "OK",
                                "verb": element.action_id,
                                "data": self.signer.seal(element.action_id, {"choice": input_id}),
                            }
                        ],
                    }
                )
        if row:
            body.insert(0, {"type": "ActionSet", "actions": row})
        return body

    def _button(self, button: Button) -> dict[str, Any]:
        if button.url:
            return {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
        action: dict[str, Any] = {
            "type": "Action.Execute",
            "title": button.label,
            "verb": button.action_id,
            "data": self.signer.seal(button.action_id, {"value": button.value}),
        }
        if button.style:
            action["style"] = "positive" if button.style == "primary" else "destructive"
        return action

    # --- forms --------------------------------------------------------------------------------------

    def form_card(
        self, form: Form, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An input card; with ``errors`` it is re-rendered with the person's answers and the problems."""
        errors = errors or {}
        values = values or {}
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": form.title, "size": "Large", "weight": "Bolder", "wrap": True}
        ]
        if form.intro:
            body.append({"type": "TextBlock", "text": form.intro, "wrap": True})
        unknown = [msg for key, msg in errors.items() if key not in {f.field_id for f in form.fields}]
        for msg in unknown:
            body.append({"type": "TextBlock", "text": msg, "color": "Attention", "wrap": True})
        for field in form.fields:
            body.append(_input(field, values.get(field.field_id)))
            if field.field_id in errors:
                body.append(
                    {
                        "type": "TextBlock",
                        "text": errors[field.field_id],
                        "color": "Attention",
                        "size": "Small",
                        "wrap": True,
                        "spacing": "None",
                    }
                )
        verb = FORM_VERB_PREFIX + form.form_id
        multi = sorted(f.field_id for f in form.fields if isinstance(f, SelectInput) and f.multiple)
        payload = {"state": form.state, "multi": multi, "form": form.model_dump(mode="json")}
        actions = [
            {
                "type": "Action.Execute",
                "title": form.submit_label,
                "verb": verb,
                "associatedInputs": "auto",
                "data": self.signer.seal(verb, payload),
            }
        ]
        return fit_card(_card(body, actions, []))

    def answered_card(self, form: Form, values: dict[str, Any]) -> dict[str, Any]:
        """What a submitted form turns into, so it cannot be sent twice and shows what was said."""
        facts: list[dict[str, str]] = []
        for field in form.fields:
            value = values.get(field.field_id)
            if isinstance(field, SelectInput):
                labels = {o.value: o.label for o in field.options}
                items: list[str] = value if isinstance(value, list) else [value] if value else []
                shown = ", ".join(labels.get(v, v) for v in items)
            else:
                shown = "" if value is None else str(value)
            facts.append({"title": field.label, "value": shown or "—"})
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": f"✅ {form.title}", "weight": "Bolder", "wrap": True},
            {"type": "FactSet", "facts": facts},
            {"type": "TextBlock", "text": "Thanks, your answers are saved.", "isSubtle": True, "wrap": True},
        ]
        return fit_card(_card(body, [], []))


def _input(field: Any, submitted: Any) -> dict[str, Any]:
    required = not field.optional
    if isinstance(field, TextInput):
        element: dict[str, Any] = {
            "type": "Input.Text",
            "id": field.field_id,
            "label": field.label,
            "placeholder": field.placeholder,
            "isMultiline": field.multiline,
            "maxLength": field.max_length,
        }
        value = submitted if isinstance(submitted, str) else field.initial
        if value:
            element["value"] = value
    elif isinstance(field, SelectInput):
        element = {
            "type": "Input.ChoiceSet",
            "id": field.field_id,
            "label": field.label,
            "isMultiSelect": field.multiple,
            "style": "compact" if len(field.options) > 5 else "expanded",
            "choices": [{"title": o.label, "value": o.value} for o in field.options],
        }
        chosen = submitted if submitted is not None else list(field.initial)
        chosen = chosen if isinstance(chosen, list) else [chosen]
        if chosen:
            element["value"] = ",".join(str(c) for c in chosen)
    elif isinstance(field, RatingInput):
        element = {
            "type": "Input.ChoiceSet",
            "id": field.field_id,
            "label": field.label,
            "style": "expanded",
            "choices": [{"title": str(n), "value": str(n)} for n in range(field.minimum, field.maximum + 1)],
        }
        rating = submitted if submitted is not None else field.initial
        if rating is not None:
            element["value"] = str(rating)
    else:  # pragma: no cover - the FormField union is closed
        raise TypeError(f"unknown form field {field!r}")
    if required:
        element["isRequired"] = True
        element["errorMessage"] = f"Please fill in “{field.label}”."
    return element


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full", **({"entities": mentions} if mentions else {})}
    return card


def card_size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def fit_card(card: dict[str, Any], limit: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """Shorten the longest texts until the card fits; as a last resort drop trailing body elements."""
    if card_size(card) <= limit:
        return card
    blocks = [b for b in card["body"] if b.get("type") == "TextBlock"]
    while card_size(card) > limit and blocks:
        longest = max(blocks, key=lambda b: len(b["text"]))
        if len(longest["text"]) <= 200:
            break
        overshoot = card_size(card) - limit
        keep = max(200, len(longest["text"]) - max(overshoot, len(longest["text"]) // 4) - 1)
        longest["text"] = longest["text"][:keep].rstrip() + _ELLIPSIS
    if card_size(card) > limit:
        note = {"type": "TextBlock", "text": "(shortened to fit in Teams)", "isSubtle": True, "wrap": True}
        card["body"].append(note)
        while card_size(card) > limit and len(card["body"]) > 2:
            card["body"].pop(-2)
    return card


def _add_image(card: dict[str, Any], file: FileAttachment) -> bool:
    """Put the image before the card's first buttons if the card stays under the limit (with room for
    the files note); False leaves the card unchanged."""
    image = {"type": "Image", "url": data_uri(file), "altText": file.title or file.filename, "size": "Stretch"}
    body = card["body"]
    at = next((i for i, b in enumerate(body) if b.get("type") == "ActionSet"), len(body))
    body.insert(at, image)
    if card_size(card) <= MAX_CARD_BYTES - _NOTE_ROOM:
        return True
    body.pop(at)
    return False


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    """The activity attachment wrapping a card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": card}
