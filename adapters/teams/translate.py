"""Teams activities (raw JSON dicts, as Teams sent them) → Tandem's neutral events.

Works on the raw body rather than botbuilder's ``Activity`` because the msrest model drops fields Tandem
needs (``conversation.tenantId``, the ``clientInfo`` entity's ``timezone``).

Every event carries the activity's id (scoped to its conversation, where Teams keeps ids unique), so the
core acts once when Teams redelivers; mentions of people become ``@Name`` in the text and are listed on
the event, so the core never sees Teams markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.teams.cards import CHOICE_INPUT_PREFIX, FORM_VERB_PREFIX
from adapters.teams.signing import DATA_KEY, CardSigner
from bot.kernel.events import (
    ActionEvent,
    Actor,
    AppInstalledEvent,
    CommandEvent,
    DirectMessageEvent,
    FileUploadedEvent,
    FormSubmittedEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    MentionRef,
    Place,
    SentRef,
)

PLATFORM = "teams"
EMULATOR_TENANT = "emulator"
_AT = re.compile(r"<at>(.*?)</at>", re.S)
_TAGS = re.compile(r"<[^>]+>")
_SLOT = re.compile(r"\x00(\d+)\x00")  # where a person's mention goes back once the text is clean


class BadActivity(ValueError):
    """The activity lacks what Tandem needs to act on it (answered with HTTP 400)."""


class BadCardAction(BadActivity):
    """A card action Tandem did not make: unknown verb, missing or altered data."""


@dataclass(frozen=True)
class TeamsContext:
    """Where and by whom an activity happened, pulled out once per turn."""

    tenant_id: str
    user_id: str
    aad_object_id: str | None
    user_name: str | None
    conversation_id: str
    conversation_type: str  # personal, groupChat, channel
    bot_id: str
    service_url: str
    team_id: str | None = None
    team_name: str | None = None
    channel_id: str | None = None  # the channel (without ;messageid=) for channel conversations
    thread_id: str | None = None
    timezone: str | None = None

    @property
    def is_personal(self) -> bool:
        return self.conversation_type == "personal"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def valid_timezone(name: Any) -> str | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def client_timezone(raw: dict[str, Any]) -> str | None:
    """The zone Teams' client reported (clientInfo entity, else ``localTimezone``)."""
    for entity in raw.get("entities") or []:
        if _dict(entity).get("type") == "clientInfo":
            tz = valid_timezone(entity.get("timezone"))
            if tz:
                return tz
    return valid_timezone(raw.get("localTimezone"))


def split_conversation_id(conversation_id: str) -> tuple[str, str | None]:
    """``19:abc@thread.tacv2;messageid=123`` → (``19:abc@thread.tacv2``, ``123``)."""
    base, _, rest = conversation_id.partition(";messageid=")
    return base, (rest or None)


def context_of(raw: dict[str, Any]) -> TeamsContext:
    """Everything about the turn's whereabouts; raises ``BadActivity`` when a required part is missing."""
    conversation = _dict(raw.get("conversation"))
    sender = _dict(raw.get("from"))
    recipient = _dict(raw.get("recipient"))
    channel_data = _dict(raw.get("channelData"))
    tenant_id = _dict(channel_data.get("tenant")).get("id") or conversation.get("tenantId")
    if not tenant_id and raw.get("channelId") == "emulator":
        tenant_id = EMULATOR_TENANT  # the Bot Framework Emulator (local testing) sends no tenant
    conversation_id = conversation.get("id")
    missing = [
        name
        for name, value in (
            ("tenant id", tenant_id),
            ("from.id", sender.get("id")),
            ("conversation.id", conversation_id),
            ("recipient.id", recipient.get("id")),
            ("serviceUrl", raw.get("serviceUrl")),
        )
        if not isinstance(value, str) or not value
    ]
    if missing:
        raise BadActivity(f"activity without {', '.join(missing)}")
    assert isinstance(tenant_id, str) and isinstance(conversation_id, str)  # `missing` above raised otherwise
    _refuse_oversized(tenant_id=tenant_id, user=sender["id"], conversation=conversation_id, bot=recipient["id"])
    kind = conversation.get("conversationType") or ("groupChat" if conversation.get("isGroup") is True else "personal")
    if not isinstance(kind, str) or kind not in CONVERSATION_TYPES:
        raise BadActivity("the conversation type is not one Teams sends")
    team = _dict(channel_data.get("team"))
    channel_id: str | None = None
    thread_id: str | None = None
    if kind == "channel":
        base, thread_id = split_conversation_id(conversation_id)
        channel_id = _dict(channel_data.get("channel")).get("id") or base
    elif kind == "groupChat":
        channel_id = conversation_id
    return TeamsContext(
        tenant_id=tenant_id,
        user_id=sender["id"],
        aad_object_id=_short(sender.get("aadObjectId"), ID_MAX),
        user_name=_short(sender.get("name"), NAME_INPUT_MAX),
        conversation_id=conversation_id,
        conversation_type=kind,
        bot_id=recipient["id"],
        service_url=raw["serviceUrl"],
        team_id=_short(team.get("id"), CONVERSATION_MAX),
        team_name=_short(team.get("name"), NAME_INPUT_MAX),
        channel_id=channel_id,
        thread_id=thread_id,
        timezone=client_timezone(raw),
    )


CONVERSATION_TYPES = frozenset({"personal", "groupChat", "channel"})
ID_MAX = 128  # the id columns (user, workspace, bot)
CONVERSATION_MAX = 256  # conversation ids carry a thread suffix
NAME_INPUT_MAX = 1_000  # trimmed to 200 on the Actor; longer is not a name


def _refuse_oversized(**values: str) -> None:
    """Ids longer than their columns cannot be stored, so the activity is refused (400) here, up front."""
    for name, value in values.items():
        limit = CONVERSATION_MAX if name == "conversation" else ID_MAX
        if len(value) > limit:
            raise BadActivity(f"the {name} id is longer than {limit} characters")


def _short(value: Any, limit: int) -> str | None:
    """A string field the activity may carry, or ``None`` when it is absent, not a string or absurdly long."""
    return value if isinstance(value, str) and len(value) <= limit else None


def actor_of(ctx: TeamsContext, *, is_admin: bool | None = None, email: str | None = None) -> Actor:
    return Actor(
        platform=PLATFORM,
        workspace_id=ctx.tenant_id,
        user_id=ctx.user_id,
        name=ctx.user_name,
        email=email,
        timezone=ctx.timezone,
        is_platform_admin=is_admin,
    )


def _plain(text: str) -> str:
    """Markup-free, entity-free text on one line with single spaces."""
    text = html.unescape(_TAGS.sub("", text)).replace("\xa0", " ")
    return " ".join(text.split())


def readable(raw: dict[str, Any]) -> tuple[str, tuple[MentionRef, ...]]:
    """The message text with the bot's @mention removed and each person's ``<at>Name</at>`` as ``@Name``,
    plus those mentions in order (each ref's ``text`` is exactly what now stands for the person)."""
    text = (raw.get("text") or "").replace("\x00", "")
    bot_id = _dict(raw.get("recipient")).get("id")
    people: list[tuple[str, str]] = []
    for entity in raw.get("entities") or []:
        entity = _dict(entity)
        tag = entity.get("text")
        mentioned = _dict(entity.get("mentioned"))
        who = mentioned.get("id")
        if entity.get("type") != "mention" or not isinstance(tag, str) or not tag or not isinstance(who, str):
            continue
        if who == bot_id:
            text = text.replace(tag, " ")
        elif tag in text:
            name = _plain(_AT.sub(lambda m: m.group(1), tag)) or _plain(str(mentioned.get("name") or "")) or who
            text = text.replace(tag, f" \x00{len(people)}\x00 ", 1)
            people.append((who, "@" + name))
    text = _plain(_AT.sub(lambda m: "@" + m.group(1), text))
    mentions: list[MentionRef] = []

    def put_back(slot: re.Match[str]) -> str:
        who, shown = people[int(slot.group(1))]
        mentions.append(MentionRef(user_id=who, text=shown))
        return shown

    return _SLOT.sub(put_back, text), tuple(mentions)


def activity_id(raw: dict[str, Any], ctx: TeamsContext, *parts: str) -> str | None:
    """The delivery's id for the core: Teams keeps activity ids unique within a conversation. ``parts``
    tell apart the several events one activity may bring (each member added, on each channel)."""
    found = raw.get("id")
    if not isinstance(found, str) or not found:
        return None
    return ":".join((ctx.conversation_id, found, *parts))


def message_event(raw: dict[str, Any], ctx: TeamsContext, actor: Actor) -> CommandEvent | DirectMessageEvent | None:
    """A typed message: 1:1 → DirectMessageEvent, channel or group chat (@mention) → CommandEvent.

    A bare @mention in a channel is a command too (the core answers it with help); an empty 1:1 message
    (an attachment, a sticker) is not."""
    text, mentions = readable(raw)
    event_id = activity_id(raw, ctx)
    if ctx.is_personal:
        if not text:
            return None
        place = Place(channel_id=ctx.conversation_id, is_direct=True)
        return DirectMessageEvent(actor=actor, text=text, place=place, mentions=mentions, event_id=event_id)
    place = Place(channel_id=ctx.channel_id, thread_id=ctx.thread_id)
    return CommandEvent(actor=actor, text=text, place=place, mentions=mentions, event_id=event_id)


def file_event(
    raw: dict[str, Any], ctx: TeamsContext, actor: Actor, filename: str, content: bytes
) -> FileUploadedEvent:
    """A file sent in the 1:1 chat, already downloaded, with the words typed alongside (``import coffee``)."""
    return FileUploadedEvent(
        actor=actor,
        filename=filename,
        content=content,
        text=readable(raw)[0],
        place=Place(channel_id=ctx.conversation_id, is_direct=True),
        event_id=activity_id(raw, ctx),
    )


def card_action_event(
    raw: dict[str, Any], ctx: TeamsContext, actor: Actor, signer: CardSigner
) -> tuple[ActionEvent | FormSubmittedEvent, dict[str, Any]]:
    """An ``adaptiveCard/action`` invoke → (event, our sealed payload). Raises ``BadCardAction``."""
    action = _dict(_dict(raw.get("value")).get("action"))
    verb = action.get("verb")
    if not isinstance(verb, str) or not verb:
        raise BadCardAction("card action without a verb")
    data = action.get("data")
    payload = signer.open(verb, data)
    if payload is None:
        raise BadCardAction(f"card action {verb!r} carries data Tandem did not sign")
    assert isinstance(data, dict)  # signer.open returns a payload only for a dict
    inputs = {k: v for k, v in data.items() if k != DATA_KEY}
    if verb.startswith(FORM_VERB_PREFIX):
        multi = set(payload.get("multi") or ())
        values: dict[str, str | list[str] | None] = {}
        for key, value in inputs.items():
            if value is not None and not isinstance(value, str | int | float):
                raise BadCardAction(f"form {verb!r}: field {key!r} is not text")
            text = "" if value is None else str(value).strip()
            if key in multi:
                values[key] = [v for v in (p.strip() for p in text.split(",")) if v]
            else:
                values[key] = text or None
        state = payload.get("state") or ""
        return FormSubmittedEvent(
            actor=actor,
            form_id=verb[len(FORM_VERB_PREFIX) :],
            values=values,
            state=state,
            event_id=activity_id(raw, ctx),  # Teams resends an invoke it thinks went unanswered
        ), payload
    if "choice" in payload:
        value = inputs.get(payload["choice"])
        if not isinstance(value, str) or not payload["choice"].startswith(CHOICE_INPUT_PREFIX):
            raise BadCardAction(f"choice {verb!r} without a picked option")
    else:
        value = payload.get("value")
        if not isinstance(value, str):
            raise BadCardAction(f"button {verb!r} without a value")
    reply_to = raw.get("replyToId") or _dict(_dict(raw.get("channelData")).get("legacy")).get("replyToId")
    ref = SentRef(conversation_id=ctx.conversation_id, message_id=reply_to) if reply_to else None
    place = Place(channel_id=ctx.channel_id or ctx.conversation_id, thread_id=ctx.thread_id, is_direct=ctx.is_personal)
    return ActionEvent(
        actor=actor, action_id=verb, value=value, message=ref, place=place, event_id=activity_id(raw, ctx)
    ), payload


def installed_event(ctx: TeamsContext, actor: Actor, event_id: str | None = None) -> AppInstalledEvent:
    scopes: dict[str, Literal["personal", "group", "team"]] = {
        "personal": "personal",
        "groupChat": "group",
        "channel": "team",
    }
    scope = scopes.get(ctx.conversation_type, "team")
    # workspace_name stays empty: Tandem's workspace is the tenant, and the team's name is not the tenant's
    return AppInstalledEvent(actor=actor, scope=scope, channel_id=ctx.channel_id, event_id=event_id)


def member_actor(ctx: TeamsContext, member: dict[str, Any], email: str | None = None) -> Actor:
    return Actor(
        platform=PLATFORM,
        workspace_id=ctx.tenant_id,
        user_id=member["id"],
        name=member.get("name"),
        email=email,
    )


def membership_events(
    raw: dict[str, Any],
    ctx: TeamsContext,
    actor: Actor,
    emails: dict[str, str] | None = None,
    channels: list[str] | None = None,
) -> list[Any]:
    """conversationUpdate → AppInstalled (the bot itself was added) or MemberJoined/MemberLeft per person.

    Joining a team means joining all its standard channels, but Teams reports it once (on the team's general
    channel); ``channels`` lists the team's other channels Tandem knows, so a program on any of them hears
    about the newcomer."""
    emails = emails or {}
    here = ctx.channel_id or ctx.conversation_id
    wheres = list(dict.fromkeys([here, *(channels or [])]))
    events: list[Any] = []
    for member in raw.get("membersAdded") or []:
        member = _dict(member)
        if not member.get("id"):
            continue
        if member["id"] == ctx.bot_id:
            events.insert(0, installed_event(ctx, actor, activity_id(raw, ctx, "installed")))
        elif not ctx.is_personal:
            person = member_actor(ctx, member, emails.get(member["id"]))
            events.extend(
                MemberJoinedEvent(
                    actor=person, channel_id=where, event_id=activity_id(raw, ctx, "in", person.user_id, where)
                )
                for where in wheres
            )
    for member in raw.get("membersRemoved") or []:
        member = _dict(member)
        if member.get("id") and member["id"] != ctx.bot_id and not ctx.is_personal:
            person = member_actor(ctx, member)
            events.extend(
                MemberLeftEvent(
                    actor=person, channel_id=where, event_id=activity_id(raw, ctx, "out", person.user_id, where)
                )
                for where in wheres
            )
    return events


def bot_removed(raw: dict[str, Any], ctx: TeamsContext) -> bool:
    return any(_dict(m).get("id") == ctx.bot_id for m in raw.get("membersRemoved") or [])
