"""Slack payloads → Tandem's neutral events. Pure functions: no I/O, no decisions.

What the core needs from a payload is small: who (``Actor``), where (``Place``), what (text, action, form
values) and which delivery it is (``event_id``, so the core acts once). Slack's markup in typed text
(``<@U123|bob>``, ``<#C123|general>``, ``&amp;``) becomes readable text (``@bob``, ``#general``, ``&``); each
mention is listed on the event with the exact text that now stands for it, so the core never parses markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from adapters.slack.directory import Profile
from adapters.slack.render import form_values, neutral_action_id
from bot.kernel.events import (
    ActionEvent,
    Actor,
    ChannelRef,
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

PLATFORM = "slack"
# <@U123>, <@U123|bob>, <#C123>, <#C123|general>; links and <!here> are left as they are
_REF = re.compile(r"<([@#])([A-Z0-9]+)(?:\|([^>]*))?>")


def mentioned_ids(text: str) -> list[str]:
    """People mentioned without a name in the markup (``<@U123>``): the adapter may look their names up."""
    return list(dict.fromkeys(m.group(2) for m in _REF.finditer(text) if m.group(1) == "@" and not m.group(3)))


def readable(
    text: str, names: Mapping[str, str] | None = None
) -> tuple[str, tuple[MentionRef, ...], tuple[ChannelRef, ...]]:
    """Slack text → (plain text, its mentions, its channels); each ref's ``text`` is its exact substring.

    A person shows as ``@`` + the name in the markup, else their known display name, else their id; a
    channel as ``#`` + its name, else its id. Entities outside the markup are unescaped too.
    """
    names = names or {}
    parts: list[str] = []
    mentions: list[MentionRef] = []
    channels: list[ChannelRef] = []
    end = 0
    for match in _REF.finditer(text):
        parts.append(html.unescape(text[end : match.start()]))
        sigil, ident, label = match.groups()
        label = html.unescape(label or "").strip()
        if sigil == "@":
            shown = "@" + (label or names.get(ident) or ident)
            mentions.append(MentionRef(user_id=ident, text=shown))
        else:
            shown = "#" + (label or ident)
            channels.append(ChannelRef(channel_id=ident, text=shown))
        parts.append(shown)
        end = match.end()
    parts.append(html.unescape(text[end:]))
    return "".join(parts).strip(), tuple(mentions), tuple(channels)


def workspace_of(body: dict[str, Any]) -> str | None:
    """The team the payload belongs to (the enterprise id for org-wide installs without a team)."""
    team = body.get("team")
    team_id = body.get("team_id") or (team.get("id") if isinstance(team, dict) else None)
    if not team_id:
        user = body.get("user")
        if isinstance(user, dict):
            team_id = user.get("team_id")
    if not team_id:
        event = body.get("event")
        if isinstance(event, dict):
            team_id = event.get("team")
    enterprise = body.get("enterprise")
    enterprise_id = body.get("enterprise_id") or (enterprise.get("id") if isinstance(enterprise, dict) else None)
    if not enterprise_id and isinstance(team, dict):
        enterprise_id = team.get("enterprise_id")
    return team_id or enterprise_id


def actor(workspace_id: str, user_id: str, profile: Profile | None = None, fallback_name: str | None = None) -> Actor:
    return Actor(
        platform=PLATFORM,
        workspace_id=workspace_id,
        user_id=user_id,
        name=(profile.name if profile else None) or fallback_name,
        email=profile.email if profile else None,
        timezone=profile.timezone if profile else None,
        is_platform_admin=profile.is_admin if profile else None,
    )


def is_direct_channel(channel_id: str | None, channel_name: str | None = None) -> bool:
    return bool(channel_id and channel_id.startswith("D")) or channel_name == "directmessage"


def command_event(body: dict[str, Any], who: Actor, names: Mapping[str, str] | None = None) -> CommandEvent:
    """A slash command; its ``trigger_id`` is unique per invocation, so it names the delivery."""
    channel = body.get("channel_id") or None
    place = Place(channel_id=channel, is_direct=is_direct_channel(channel, body.get("channel_name")))
    text, mentions, channels = readable(body.get("text") or "", names)
    return CommandEvent(
        actor=who,
        text=text,
        place=place,
        mentions=mentions,
        channels=channels,
        event_id=_trigger_id(body),
    )


def mention_event(event: dict[str, Any], who: Actor, event_id: str | None = None) -> CommandEvent:
    """Someone @-mentioned Tandem in a channel: answer with help, in the thread of their message."""
    thread = event.get("thread_ts") or event.get("ts")
    return CommandEvent(
        actor=who, text="help", place=Place(channel_id=event.get("channel"), thread_id=thread), event_id=event_id
    )


def direct_message_event(
    event: dict[str, Any], who: Actor, event_id: str | None = None, names: Mapping[str, str] | None = None
) -> DirectMessageEvent:
    place = Place(channel_id=event.get("channel"), thread_id=event.get("thread_ts"), is_direct=True)
    text, mentions, channels = readable(event.get("text") or "", names)
    return DirectMessageEvent(
        actor=who, text=text, place=place, mentions=mentions, channels=channels, event_id=event_id
    )


def event_id_of(body: dict[str, Any]) -> str | None:
    """The Events API id of a callback; Slack's retries (``X-Slack-Retry-Num``) carry the same one."""
    event_id = body.get("event_id")
    return str(event_id) if event_id else None


def _trigger_id(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return f"trigger:{trigger}" if trigger else None


def is_plain_dm(event: dict[str, Any]) -> bool:
    """A person writing to Tandem in its DM: not a bot, not an edit/join/other subtype."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


def is_file_share_dm(event: dict[str, Any]) -> bool:
    """A person sending Tandem one or more files in its DM (with or without text): a possible import.

    Files shared in channels are not for Tandem and are left alone.
    """
    return (
        event.get("type") == "message"
        and event.get("subtype") == "file_share"
        and event.get("channel_type") == "im"
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(shared_files(event))
    )


def shared_files(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's file objects (full, or stubs with only an id)."""
    return [f for f in event.get("files") or [] if isinstance(f, dict) and (f.get("id") or f.get("url_private"))]


def file_event(
    event: dict[str, Any], who: Actor, filename: str, content: bytes, event_id: str | None = None
) -> FileUploadedEvent:
    """One file of a message; ``event_id`` must name the file too, as one message may carry several."""
    place = Place(channel_id=event.get("channel"), thread_id=event.get("thread_ts"), is_direct=True)
    text, _mentions, _channels = readable(event.get("text") or "")
    return FileUploadedEvent(actor=who, filename=filename, content=content, text=text, place=place, event_id=event_id)


def member_joined(event: dict[str, Any], who: Actor, event_id: str | None = None) -> MemberJoinedEvent:
    return MemberJoinedEvent(actor=who, channel_id=event.get("channel", ""), event_id=event_id)


def member_left(event: dict[str, Any], who: Actor, event_id: str | None = None) -> MemberLeftEvent:
    return MemberLeftEvent(actor=who, channel_id=event.get("channel", ""), event_id=event_id)


def action_value(action: dict[str, Any]) -> str:
    """The value a click or pick carries, whatever the element type."""
    if action.get("value") is not None:
        return str(action["value"])
    selected = action.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value", ""))
    many = action.get("selected_options")
    if isinstance(many, list):
        return ",".join(str(o.get("value", "")) for o in many if isinstance(o, dict))
    for key in ("selected_date", "selected_time", "selected_user", "selected_channel", "selected_conversation"):
        if action.get(key):
            return str(action[key])
    return ""


def action_event(body: dict[str, Any], action: dict[str, Any], who: Actor, event_id: str | None) -> ActionEvent:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    ref = SentRef(conversation_id=channel, message_id=message_ts) if channel and message_ts else None
    place = Place(channel_id=channel, thread_id=container.get("thread_ts"), is_direct=is_direct_channel(channel))
    return ActionEvent(
        actor=who,
        action_id=neutral_action_id(action.get("action_id", "")),
        value=action_value(action),
        message=ref,
        place=place,
        event_id=event_id,
    )


def form_event(body: dict[str, Any], who: Actor) -> FormSubmittedEvent:
    view = body.get("view") or {}
    values = form_values((view.get("state") or {}).get("values") or {})
    return FormSubmittedEvent(
        actor=who,
        form_id=view.get("callback_id", ""),
        values=values,
        state=view.get("private_metadata") or "",
        event_id=_trigger_id(body),  # each submission gets a new one, also after inline errors
    )
