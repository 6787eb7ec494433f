"""Neutral inbound events: what adapters hand the core after translating a platform payload."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bot.kernel.messages import Form, Message
from bot.kernel.safe_text import EMAIL_MAX, FORM_CHOICES_MAX, FORM_VALUE_MAX, NAME_MAX, ZONE_MAX, bounded, clean


@dataclass(frozen=True)
class Actor:
    """Who did something, on which workspace."""

    platform: str
    workspace_id: str  # the platform's team / tenant id
    user_id: str  # the platform's user id
    name: str | None = None
    email: str | None = None
    timezone: str | None = None  # the platform's idea of their zone, if it sent one
    is_platform_admin: bool | None = None  # None: the adapter doesn't know

    def __post_init__(self) -> None:
        """Whatever a platform sends, the name fits its column and shows no control characters."""
        object.__setattr__(self, "name", clean(self.name, NAME_MAX) if self.name is not None else None)
        object.__setattr__(self, "email", bounded(self.email, EMAIL_MAX))
        object.__setattr__(self, "timezone", bounded(self.timezone, ZONE_MAX))


@dataclass(frozen=True)
class Place:
    """Where it happened."""

    channel_id: str | None = None
    thread_id: str | None = None
    is_direct: bool = False


@dataclass(frozen=True)
class SentRef:
    """Where a sent message lives, so it can be updated later."""

    conversation_id: str
    message_id: str


@dataclass(frozen=True)
class MentionRef:
    """A person mentioned in a command: their platform id and the exact text that stands for them in it.

    Adapters write each mention into the event's text as plain readable text (``@Bob Smith``) and list it
    here, so the core never parses platform markup.
    """

    user_id: str
    text: str


@dataclass(frozen=True)
class ChannelRef:
    """A channel named in a command: its platform id and the exact text that stands for it (``#mentoring``)."""

    channel_id: str
    text: str


@dataclass(frozen=True)
class CommandEvent:
    actor: Actor
    text: str
    place: Place = field(default_factory=Place)
    mentions: tuple[MentionRef, ...] = ()
    channels: tuple[ChannelRef, ...] = ()
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)

    def __post_init__(self) -> None:
        """Typed text loses control and bidi characters here, once (mentions stay exact substrings)."""
        _clean_typed(self)


@dataclass(frozen=True)
class DirectMessageEvent:
    actor: Actor
    text: str
    place: Place = field(default_factory=lambda: Place(is_direct=True))
    mentions: tuple[MentionRef, ...] = ()
    channels: tuple[ChannelRef, ...] = ()
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)

    def __post_init__(self) -> None:
        """Typed text loses control and bidi characters here, once (mentions stay exact substrings)."""
        _clean_typed(self)


@dataclass(frozen=True)
class ActionEvent:
    """A button click or a choice picked."""

    actor: Actor
    action_id: str
    value: str
    message: SentRef | None = None
    place: Place = field(default_factory=Place)
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


@dataclass(frozen=True)
class FormSubmittedEvent:
    actor: Actor
    form_id: str
    values: dict[str, str | list[str] | None]
    state: str = ""
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)

    def __post_init__(self) -> None:
        """What a person typed into a form loses control and bidi characters here, once, and no value is
        longer than the longest field any form offers (handlers check their own fields' limits)."""
        values = {
            key: [clean(v, FORM_VALUE_MAX) for v in value[:FORM_CHOICES_MAX] if isinstance(v, str)]
            if isinstance(value, list)
            else clean(value, FORM_VALUE_MAX)
            if isinstance(value, str)
            else None
            for key, value in self.values.items()
        }
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class MemberJoinedEvent:
    actor: Actor  # the person who joined
    channel_id: str
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


@dataclass(frozen=True)
class MemberLeftEvent:
    actor: Actor
    channel_id: str
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


@dataclass(frozen=True)
class AppInstalledEvent:
    actor: Actor  # who installed it
    scope: Literal["workspace", "team", "channel", "group", "personal"] = "workspace"
    channel_id: str | None = None
    workspace_name: str | None = None
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


@dataclass(frozen=True)
class HomeOpenedEvent:
    actor: Actor
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


@dataclass(frozen=True)
class FileUploadedEvent:
    """A file someone sent the bot (e.g. a participants CSV in a DM), already downloaded by the adapter.

    ``text`` is the message that came with it (e.g. ``import coffee``); the core decides what to do.
    """

    actor: Actor
    filename: str
    content: bytes
    text: str = ""
    place: Place = field(default_factory=lambda: Place(is_direct=True))
    event_id: str | None = None  # the platform's id for this delivery (bot/app/once.py acts once per id)


Event = (
    CommandEvent
    | DirectMessageEvent
    | ActionEvent
    | FormSubmittedEvent
    | MemberJoinedEvent
    | MemberLeftEvent
    | AppInstalledEvent
    | HomeOpenedEvent
    | FileUploadedEvent
)


# --- what the core answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A message back to the person where they acted; ephemeral means only they see it."""

    message: Message
    ephemeral: bool = True
    replace_original: bool = False  # for clicks: swap the clicked message for this one


@dataclass(frozen=True)
class OpenForm:
    form: Form


@dataclass(frozen=True)
class FormErrors:
    """Field-level problems shown inline on the form; nothing was saved."""

    errors: dict[str, str]


@dataclass(frozen=True)
class NoReply:
    pass


Response = Reply | OpenForm | FormErrors | NoReply


def _clean_typed(event: CommandEvent | DirectMessageEvent) -> None:
    object.__setattr__(event, "text", clean(event.text))
    object.__setattr__(event, "mentions", tuple(replace(m, text=clean(m.text)) for m in event.mentions))
    object.__setattr__(event, "channels", tuple(replace(c, text=clean(c.text)) for c in event.channels))
