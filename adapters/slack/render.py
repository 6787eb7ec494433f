"""Neutral messages and forms → Block Kit, always inside Slack's limits.

Slack rejects a whole message when one block breaks a limit, so everything here is trimmed or split
instead: a message that would never be delivered is worse than one with an ellipsis.
Limits: https://api.slack.com/reference/block-kit/blocks and .../block-elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.kernel.messages import (
    Actions,
    Button,
    Choice,
    Context,
    Divider,
    Form,
    GroupChatButton,
    Header,
    Image,
    Mention,
    Message,
    Option,
    RatingInput,
    Section,
    SelectInput,
    Text,
    TextInput,
)
from bot.kernel.safe_text import clean

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTION_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_PLACEHOLDER = 150
MAX_TITLE = 24
MAX_LABEL = 2000
MAX_RADIO_OPTIONS = 10
MAX_URL = 3000
MAX_FALLBACK_TEXT = 3000
MAX_INPUT_LENGTH = 3000

# Several buttons may share one neutral action id (e.g. "rate" 1..5); Slack wants them unique per block.
ACTION_SUFFIX = "~~"
FIELD_ACTION_ID = "value"

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def trim(text: str, limit: int) -> str:
    """Cut to ``limit`` characters, ending with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping), so a
    name like ``<!channel>`` or ``<https://evil|click>`` stays text; control and bidi characters go."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: Text) -> str:
    """Text → Slack mrkdwn: mentions become ``<@U…>``, ``**bold**`` becomes ``*bold*``."""
    out: list[str] = []
    for part in text.parts:
        if isinstance(part, Mention):
            out.append(f"<@{part.user_id}>")
        else:
            out.append(_BOLD.sub(r"*\1*", escape(part)))
    return "".join(out)


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": trim(clean(text), limit) or " ", "emoji": True}


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split long text at paragraph, then line, then word boundaries into pieces of at most ``limit``."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


# --- messages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A message ready for chat.postMessage: fallback ``text`` and one or more ≤50-block chunks."""

    text: str
    chunks: list[list[dict[str, Any]]]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.chunks[0] if self.chunks else []


def render_blocks(message: Message) -> list[dict[str, Any]]:
    """All blocks of a message, each within its own limits (the count is handled by the caller).

    A message with nothing to show says its summary, so Slack never gets an empty message; action ids
    are unique across the whole message (Slack's rule per block is not enough for some clients)."""
    blocks = _blocks(message)
    if not blocks:
        text = escape(message.summary.strip()) or "…"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in split_text(text)]
    _unique_action_ids([el for b in blocks if b["type"] == "actions" for el in b["elements"]])
    return blocks


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Header):
            blocks.append({"type": "header", "text": plain(block.text, MAX_HEADER)})
        elif isinstance(block, Section):
            blocks.extend(_section(block))
        elif isinstance(block, Context):
            text = trim(mrkdwn(block.text), MAX_SECTION_TEXT)
            if text:
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
        elif isinstance(block, Divider):
            blocks.append({"type": "divider"})
        elif isinstance(block, Actions):
            blocks.extend(_actions(block))
        elif isinstance(block, Image):
            if len(block.url) <= MAX_URL:
                blocks.append({"type": "image", "image_url": block.url, "alt_text": trim(block.alt or "image", 2000)})
    return blocks


def notification_text(message: Message) -> str:
    """The ``text`` Slack shows in notifications: the summary in plain words (escaped, as Slack reads
    ``text`` as mrkdwn), never empty."""
    return escape(message.notification()) or "…"


def render_message(message: Message, max_blocks: int = MAX_MESSAGE_BLOCKS) -> Rendered:
    """Render and split into chunks of at most ``max_blocks`` (sent as follow-up messages)."""
    blocks = render_blocks(message)
    chunks = [blocks[i : i + max_blocks] for i in range(0, len(blocks), max_blocks)]
    return Rendered(text=notification_text(message), chunks=chunks)


def render_single(message: Message, max_blocks: int = MAX_MESSAGE_BLOCKS) -> Rendered:
    """One chunk only (updates, ephemeral replies, the Home tab): the tail is replaced by a note."""
    blocks = render_blocks(message)
    if len(blocks) > max_blocks:
        more = len(blocks) - max_blocks + 1
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {more} more"}]}
        blocks = blocks[: max_blocks - 1] + [note]
    return Rendered(text=notification_text(message), chunks=[blocks])


def home_view(message: Message) -> dict[str, Any]:
    """The App Home tab (views.publish)."""
    return {"type": "home", "blocks": render_single(message, MAX_VIEW_BLOCKS).blocks}


def _section(block: Section) -> list[dict[str, Any]]:
    pieces = split_text(mrkdwn(block.text)) if block.text.parts else []
    out: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in pieces if p]
    fields = [
        {"type": "mrkdwn", "text": trim(f"*{escape(label)}*\n{escape(value)}", MAX_FIELD_TEXT)}
        for label, value in block.fields
    ]
    for i in range(0, len(fields), MAX_FIELDS):
        group = fields[i : i + MAX_FIELDS]
        if i == 0 and out:
            out[-1]["fields"] = group
        else:
            out.append({"type": "section", "fields": group})
    return out


def _actions(block: Actions) -> list[dict[str, Any]]:
    elements = [e for e in (_element(el) for el in block.elements) if e is not None]
    groups = [elements[i : i + MAX_ACTION_ELEMENTS] for i in range(0, len(elements), MAX_ACTION_ELEMENTS)]
    out = [{"type": "actions", "elements": group} for group in groups]
    mentions = [el for el in block.elements if isinstance(el, GroupChatButton)]
    for el in mentions:  # Slack opens group DMs itself; just name the people
        names = ", ".join(f"<@{uid}>" for uid in el.user_ids)
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": trim(names, MAX_SECTION_TEXT)}]})
    return out


def _element(el: Button | GroupChatButton | Choice) -> dict[str, Any] | None:
    if isinstance(el, Button):
        out: dict[str, Any] = {
            "type": "button",
            "text": plain(el.label, MAX_BUTTON_TEXT),
            "action_id": el.action_id[:MAX_ACTION_ID],
        }
        if el.value:
            out["value"] = el.value[:MAX_BUTTON_VALUE]
        if el.style:
            out["style"] = el.style
        if el.url and len(el.url) <= MAX_URL:
            out["url"] = el.url
        return out
    if isinstance(el, Choice):
        if not el.options:
            return None
        out = {
            "type": "static_select",
            "action_id": el.action_id[:MAX_ACTION_ID],
            "placeholder": plain(el.placeholder, MAX_PLACEHOLDER),
            **_options(el.options),
        }
        initial = next((o for o in _flat(out) if o["value"] == el.initial), None)
        if initial:
            out["initial_option"] = initial
        return out
    return None


def _option(option: Option) -> dict[str, Any]:
    return {"text": plain(option.label, MAX_OPTION_TEXT), "value": option.value[:MAX_OPTION_VALUE]}


def _options(options: tuple[Option, ...]) -> dict[str, Any]:
    """``options`` for a select, or, over Slack's 100, ``option_groups`` of 100 each (up to 10,000)
    labelled by their first and last option, so nothing is cut off."""
    rendered = [_option(o) for o in options[: MAX_OPTIONS * MAX_OPTION_GROUPS]]
    if len(rendered) <= MAX_OPTIONS:
        return {"options": rendered}
    groups = []
    for i in range(0, len(rendered), MAX_OPTIONS):
        group = rendered[i : i + MAX_OPTIONS]
        label = f"{group[0]['text']['text']} – {group[-1]['text']['text']}"
        groups.append({"label": plain(label, MAX_OPTION_TEXT), "options": group})
    return {"option_groups": groups}


def _flat(select: dict[str, Any]) -> list[dict[str, Any]]:
    """Every option of a rendered select, grouped or not."""
    if "option_groups" in select:
        return [o for g in select["option_groups"] for o in g["options"]]
    return list(select.get("options", []))


def _unique_action_ids(elements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for el in elements:
        base = el["action_id"]
        n = seen.get(base, 0)
        seen[base] = n + 1
        if n:
            suffix = f"{ACTION_SUFFIX}{n}"
            el["action_id"] = base[: MAX_ACTION_ID - len(suffix)] + suffix


def neutral_action_id(slack_action_id: str) -> str:
    """Undo :func:`_unique_action_ids`."""
    base, sep, tail = slack_action_id.rpartition(ACTION_SUFFIX)
    return base if sep and tail.isdigit() else slack_action_id


# --- forms -------------------------------------------------------------------------------------------


def render_form(form: Form) -> dict[str, Any]:
    """Form → modal view: ``callback_id`` is the form id, ``private_metadata`` carries ``state``."""
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.extend(
            {"type": "section", "text": {"type": "mrkdwn", "text": p}}
            for p in split_text(_BOLD.sub(r"*\1*", escape(form.intro)))
        )
    for f in form.fields:
        blocks.append(_input(f))
    if not blocks:  # Slack refuses a view without blocks
        label = escape(form.submit_label or "Save")
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Nothing to fill in: just press *{label}*."}}
        )
    return {
        "type": "modal",
        "callback_id": form.form_id[:MAX_ACTION_ID],
        "private_metadata": form.state,
        "title": plain(form.title, MAX_TITLE),
        "submit": plain(form.submit_label or "Save", MAX_TITLE),
        "close": plain("Cancel", MAX_TITLE),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def _input(f: TextInput | SelectInput | RatingInput) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(f, TextInput):
        element = {
            "type": "plain_text_input",
            "action_id": FIELD_ACTION_ID,
            "multiline": f.multiline,
            "max_length": max(1, min(f.max_length, MAX_INPUT_LENGTH)),
        }
        if f.placeholder:
            element["placeholder"] = plain(f.placeholder, MAX_PLACEHOLDER)
        if f.initial:
            element["initial_value"] = f.initial[: element["max_length"]]
    elif isinstance(f, SelectInput):
        element = {
            "type": "multi_static_select" if f.multiple else "static_select",
            "action_id": FIELD_ACTION_ID,
            **_options(f.options or (Option(label="-", value="-"),)),
        }
        chosen = [o for o in _flat(element) if o["value"] in f.initial]
        if f.multiple and chosen:
            element["initial_options"] = chosen
        elif chosen:
            element["initial_option"] = chosen[0]
    else:
        options = [_option(Option(label=str(n), value=str(n))) for n in range(f.minimum, f.maximum + 1)]
        options = options[:MAX_OPTIONS]
        kind = "radio_buttons" if len(options) <= MAX_RADIO_OPTIONS else "static_select"
        element = {"type": kind, "action_id": FIELD_ACTION_ID, "options": options}
        if kind == "static_select":
            element["placeholder"] = plain("Pick a rating", MAX_PLACEHOLDER)
        chosen = [o for o in options if f.initial is not None and o["value"] == str(f.initial)]
        if chosen:
            element["initial_option"] = chosen[0]
    return {
        "type": "input",
        "block_id": f.field_id[:MAX_ACTION_ID],
        "optional": f.optional,
        "label": plain(f.label, MAX_LABEL),
        "element": element,
    }


def form_values(state_values: dict[str, Any]) -> dict[str, str | list[str] | None]:
    """A view's ``state.values`` → {field_id: value}: text, selected value, or list for multi-selects."""
    values: dict[str, str | list[str] | None] = {}
    for block_id, actions in (state_values or {}).items():
        if not isinstance(actions, dict):
            continue
        for state in actions.values():
            if not isinstance(state, dict):
                continue
            values[block_id] = _value_of(state)
            break
    return values


def _value_of(state: dict[str, Any]) -> str | list[str] | None:
    if "selected_options" in state:
        return [o.get("value", "") for o in state.get("selected_options") or []]
    if "selected_option" in state:
        opt = state.get("selected_option")
        return opt.get("value") if isinstance(opt, dict) else None
    for key in (
        "value",
        "selected_date",
        "selected_time",
        "selected_user",
        "selected_channel",
        "selected_conversation",
        "selected_date_time",
    ):
        if key in state:
            raw = state.get(key)
            return None if raw is None else str(raw)
    for key in ("selected_users", "selected_channels", "selected_conversations"):
        if key in state:
            return list(state.get(key) or [])
    return None
