"""The neutral message model: what the core says, before any adapter renders it.

Adapters turn these into Block Kit (Slack), Adaptive Cards (Teams) or terminal text (console). Messages
are pydantic models so a delivery can store one as JSON and send it after a restart exactly as written.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SUMMARY_CHARS = 150  # what notifications and lock screens show, on both platforms

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", re.DOTALL)
_CODE = re.compile(r"`([^`\n]*)`")


def plain_words(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The core's light markup (``**bold**``, ``_italic_``, ```code```) as plain words on one line, cut at a
    word boundary to ``limit`` characters: notifications show summaries as they are, markup and all."""
    text = _CODE.sub(r"\1", _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text)))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit - 1
    return text[:cut].rstrip(" ,;:-–—") + "…"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Mention(_Frozen):
    """A person named in text; adapters render a real mention where the platform has one."""

    type: Literal["mention"] = "mention"
    user_id: str  # the platform's user id
    name: str


Inline = Annotated[str | Mention, Field(union_mode="left_to_right")]
_INITIAL_THEN_STOP = re.compile(r"\b([A-Z])\.\.(?!\.)")  # "Ben A.." → "Ben A." (an ellipsis stays)


def _one_full_stop(parts: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """A sentence ending on a name that ends with an initial ("Ben A.") gets one full stop, not two."""
    out: list[Inline] = []
    for part in parts:
        if isinstance(part, str):
            before = out[-1] if out else None
            ends_with_stop = (before.name if isinstance(before, Mention) else before or "").endswith(".")
            if ends_with_stop and part.startswith(".") and not part.startswith(".."):
                part = part[1:]
            if ".." in part:  # the only text the pattern can change (most parts have none)
                part = _INITIAL_THEN_STOP.sub(r"\1.", part)
        out.append(part)
    return tuple(out)


class Text(_Frozen):
    """Plain text with inline mentions. Light markup: **bold** and _italic_ only."""

    parts: tuple[Inline, ...] = ()

    @field_validator("parts", mode="after")
    @classmethod
    def _stops(cls, parts: tuple[Inline, ...]) -> tuple[Inline, ...]:
        return _one_full_stop(parts)

    @classmethod
    def of(cls, *parts: str | Mention) -> Text:
        return cls(parts=tuple(parts))

    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else p.name for p in self.parts)


class Header(_Frozen):
    type: Literal["header"] = "header"
    text: str


class Section(_Frozen):
    """A paragraph, optionally with short label/value fields beside it."""

    type: Literal["section"] = "section"
    text: Text
    fields: tuple[tuple[str, str], ...] = ()


class Context(_Frozen):
    """Small print under a section (time stamps, hints)."""

    type: Literal["context"] = "context"
    text: Text


class Divider(_Frozen):
    type: Literal["divider"] = "divider"


class Button(_Frozen):
    """A click sends ``action_id`` and ``value`` back to the core; with ``url`` it opens a link instead."""

    type: Literal["button"] = "button"
    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    url: str | None = None


class GroupChatButton(_Frozen):
    """Opens a chat with these people, on platforms where the bot cannot create one itself."""

    type: Literal["group_chat_button"] = "group_chat_button"
    label: str
    user_ids: tuple[str, ...]
    emails: tuple[str, ...] = ()
    topic: str = ""


class Option(_Frozen):
    label: str
    value: str


class Choice(_Frozen):
    """A drop-down; picking an option sends ``action_id`` and the option's value."""

    type: Literal["choice"] = "choice"
    action_id: str
    placeholder: str
    options: tuple[Option, ...]
    initial: str | None = None


ActionElement = Annotated[Button | GroupChatButton | Choice, Field(discriminator="type")]


class Actions(_Frozen):
    type: Literal["actions"] = "actions"
    elements: tuple[ActionElement, ...]


class Image(_Frozen):
    type: Literal["image"] = "image"
    url: str
    alt: str


Block = Annotated[Header | Section | Context | Divider | Actions | Image, Field(discriminator="type")]


class FileAttachment(_Frozen):
    """A file sent with the message (an .ics invite, a CSV export, a chart)."""

    filename: str
    mime_type: str
    content_b64: str
    title: str = ""


class Message(_Frozen):
    """A whole message. ``summary`` is the plain-text line shown in notifications."""

    summary: str
    blocks: tuple[Block, ...] = ()
    files: tuple[FileAttachment, ...] = ()

    def notification(self, limit: int = SUMMARY_CHARS) -> str:
        """The summary as plain words for notifications (the text itself when there is no summary)."""
        return plain_words(self.summary or self.plain_text(), limit)

    def plain_text(self) -> str:
        """Everything a reader sees, as plain lines (logs, tests, the console)."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Header):
                lines.append(block.text)
            elif isinstance(block, Section | Context):
                lines.append(block.text.plain())
                lines.extend(f"{k}: {v}" for k, v in getattr(block, "fields", ()))
            elif isinstance(block, Actions):
                labels = [getattr(e, "label", None) or getattr(e, "placeholder", "") for e in block.elements]
                lines.append(" ".join(f"[{label}]" for label in labels))
        return "\n".join(lines) if lines else self.summary


# --- forms -------------------------------------------------------------------------------------------


class TextInput(_Frozen):
    type: Literal["text"] = "text"
    field_id: str
    label: str
    placeholder: str = ""
    initial: str = ""
    multiline: bool = False
    optional: bool = False
    max_length: int = 500


class SelectInput(_Frozen):
    type: Literal["select"] = "select"
    field_id: str
    label: str
    options: tuple[Option, ...]
    initial: tuple[str, ...] = ()
    multiple: bool = False
    optional: bool = False


class RatingInput(_Frozen):
    type: Literal["rating"] = "rating"
    field_id: str
    label: str
    minimum: int = 1
    maximum: int = 5
    initial: int | None = None
    optional: bool = False


FormField = Annotated[TextInput | SelectInput | RatingInput, Field(discriminator="type")]


class Form(_Frozen):
    """A form the person fills in (a Slack modal, a Teams input card, console prompts)."""

    form_id: str
    title: str
    submit_label: str = "Save"
    intro: str = ""
    fields: tuple[FormField, ...]
    state: str = ""  # opaque context handed back on submit (e.g. a program id)


# --- helpers -----------------------------------------------------------------------------------------


def text_message(text: str, *parts: str | Mention) -> Message:
    """A one-paragraph message; extra ``parts`` follow ``text`` (e.g. mentions)."""
    body = Text.of(text, *parts)
    return Message(summary=body.plain(), blocks=(Section(text=body),))
