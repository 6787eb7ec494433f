"""Neutral messages and forms rendered as Adaptive Cards 1.5 (plain JSON, no botbuilder needed).

Buttons become ``Action.Execute`` (Universal Actions) so a click comes back as an ``adaptiveCard/action``
invoke and the bot can answer with a replacement card. Teams has no modals, so a form is an input card
whose submit is ``Action.Execute`` with verb ``form:<form_id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from adapters.teams.fitting import CONTINUED, MAX_CARD_BYTES, SHORTENED, fit_single, note, paginate, size_of
from adapters.teams.form_store import dataset_of
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
# Teams shows these inline (as an Adaptive Card Image with a data: URI) when they fit in the message.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
_NOTE_ROOM = 600  # bytes kept free for the files note when deciding whether an image fits
_MSTEAMS_ROOM = {"width": "Full", "entities": []}
TYPEAHEAD_OVER = 50  # a form's select with more options than this is searched as one types
TYPEAHEAD_SHOWN = 15  # ... showing this many before the person types (Teams' own page size)


class FilePlacement(Enum):
    """Where a message's files (other than inline images) go, which decides what the card says of them."""

    BELOW = "below"  # a 1:1 chat: file-consent cards follow the message
    PRIVATE = "private"  # a channel or group chat: the files went to the person's 1:1 chat
    PRIVATE_FAILED = "private_failed"  # ... but that 1:1 chat could not be reached
    NOT_SENT = "not_sent"  # a channel post or an edit: Teams bots cannot share files there


@dataclass(frozen=True)
class RenderedMessage:
    """A message's card, the cards that continue it when it is too long for one Teams message, and the
    files that still have to be sent on their own (in order)."""

    card: dict[str, Any]
    files: tuple[FileAttachment, ...]
    more: tuple[dict[str, Any], ...] = ()

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [self.card, *self.more]


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


def _tag(mention: Mention, mentions: list[dict[str, Any]]) -> str:
    """The ``<at>…</at>`` text for this person, unique in the card: Teams ties a mention entity to its
    text, so a second person with the same display name is shown as "Name (2)"."""
    for entity in mentions:
        if entity["mentioned"]["id"] == mention.user_id:
            return str(entity["text"])
    taken = {entity["text"] for entity in mentions}
    name = " ".join(clean(mention.name).split()) or mention.user_id
    tag, n = f"<at>{name}</at>", 1
    while tag in taken:
        n += 1
        tag = f"<at>{name} ({n})</at>"
    mentions.append({"type": "mention", "text": tag, "mentioned": {"id": mention.user_id, "name": mention.name}})
    return tag


def _text(text: Text, mentions: list[dict[str, Any]]) -> str:
    return "".join(_tag(part, mentions) if isinstance(part, Mention) else _inert(part) for part in text.parts)


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
    return blocks


class CardRenderer:
    """Turns neutral messages and forms into Adaptive Card JSON with signed action data."""

    def __init__(self, signer: CardSigner) -> None:
        self.signer = signer

    # --- messages -----------------------------------------------------------------------------------

    def message_card(self, message: Message) -> dict[str, Any]:
        """One card alone (an edit, a short note): a message too long for one card ends with a note that
        it was shortened. Where a message can continue, use :meth:`render` and send all its cards."""
        rendered = self.render(message, FilePlacement.NOT_SENT)
        if not rendered.more:
            return rendered.card
        card = rendered.card
        card["body"] = [b for b in card["body"] if b.get("text") != CONTINUED] + [note(SHORTENED)]
        return card

    def message_cards(self, message: Message) -> list[dict[str, Any]]:
        """Every card of a message with no files to send (their names are noted as not attached)."""
        return self.render(message, FilePlacement.NOT_SENT).cards

    def render(self, message: Message, placement: FilePlacement) -> RenderedMessage:
        """The message's cards with images inline where they fit in a Teams message, plus the files left
        to send. A message too long for one card continues in more cards.

        An image too big for the ~28 KB message limit is sent like any other file; the last card says
        where the files went (``placement``)."""
        cards = self._text_cards(message)
        last = cards[-1]
        rest: list[FileAttachment] = []
        for file in message.files:
            if file.mime_type.lower() not in INLINE_IMAGE_TYPES or not _add_image(last, file):
                rest.append(file)
        if rest:
            last["body"].append(note(files_note(placement, rest)))
        return RenderedMessage(card=cards[0], files=tuple(rest), more=tuple(cards[1:]))

    def _text_cards(self, message: Message) -> list[dict[str, Any]]:
        mentions: list[dict[str, Any]] = []
        body: list[dict[str, Any]] = []
        separate = False
        for block in message.blocks:
            if isinstance(block, Divider):
                separate = True
                continue
            elements = self._block(block, mentions)
            if elements and separate:
                elements[0]["separator"] = True
                elements[0]["spacing"] = "Medium"
            separate = separate and not elements
            body.extend(elements)
        if not body:
            body.append({"type": "TextBlock", "text": _inert(message.notification()) or "…", "wrap": True})
        fallback = _inert(message.notification(300))
        overhead = size_of({**_card([], [], mentions[:0]), "fallbackText": fallback, "msteams": _MSTEAMS_ROOM})
        limit = MAX_CARD_BYTES - _NOTE_ROOM if message.files else MAX_CARD_BYTES
        cards = []
        for page, used in paginate(body, mentions, overhead, limit):
            card = _card(page, [], used)
            card["fallbackText"] = fallback
            cards.append(card)
        return cards

    def _block(self, block: Any, mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
            return self._actions(block)
        return []

    def _actions(self, block: Actions) -> list[dict[str, Any]]:
        """Buttons go in an ActionSet where they appear; a choice becomes an input plus its OK button, kept
        together in a Container so a long message never splits them."""
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
                ok = {
                    "type": "Action.Execute",
                    "title": "OK",
                    "verb": element.action_id,
                    "data": self.signer.seal(element.action_id, {"choice": input_id}),
                }
                body.append({"type": "Container", "items": [choice, {"type": "ActionSet", "actions": [ok]}]})
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
        self,
        form: Form,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        *,
        ref: str,
    ) -> dict[str, Any]:
        """An input card; with ``errors`` it is re-rendered with the person's answers and the problems.

        ``ref`` is the key the form was kept under (adapters/teams/form_store.py): the submit action carries
        it instead of the form, and a select with many options searches them through it as one types."""
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
        if not form.fields:
            body.append(
                {"type": "TextBlock", "text": f"Nothing to fill in: just press {form.submit_label}.", "wrap": True}
            )
        for field in form.fields:
            body.append(_input(field, values.get(field.field_id), ref))
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
        payload = {"state": form.state, "multi": multi, "ref": ref}
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


def _select(field: SelectInput, chosen: list[str], ref: str) -> dict[str, Any]:
    """A drop-down; past ``TYPEAHEAD_OVER`` options Teams searches them as one types (``Data.Query``,
    answered by the bot's ``application/search``), so a long list neither bloats the card nor is cut."""
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": field.field_id,
        "label": field.label,
        "isMultiSelect": field.multiple,
        "style": "compact" if len(field.options) > 5 else "expanded",
        "choices": [{"title": o.label, "value": o.value} for o in field.options],
    }
    if len(field.options) > TYPEAHEAD_OVER:
        shown = [o for o in field.options if o.value in chosen][:TYPEAHEAD_SHOWN]
        shown += [o for o in field.options if o not in shown][: TYPEAHEAD_SHOWN - len(shown)]
        element["style"] = "filtered"
        element["choices"] = [{"title": o.label, "value": o.value} for o in shown]
        element["choices.data"] = {"type": "Data.Query", "dataset": dataset_of(ref, field.field_id)}
        element["placeholder"] = f"Type to search all {len(field.options)} options"
    return element


def _input(field: Any, submitted: Any, ref: str) -> dict[str, Any]:
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
        chosen = submitted if submitted is not None else list(field.initial)
        chosen = chosen if isinstance(chosen, list) else [chosen]
        element = _select(field, [str(c) for c in chosen], ref)
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
    return size_of(card)


def fit_card(card: dict[str, Any], limit: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """A card that must stay whole (a form) under ``limit``, shortened in bounded time if need be."""
    return fit_single(card, limit)


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
