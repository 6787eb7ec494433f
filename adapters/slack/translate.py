"""Slack payloads → Tandem's neutral events. Pure functions: no I/O, no decisions.

What the core needs from a payload is small: who (``Actor``), where (``Place``), and what (text, action,
form values). Mentions in command text stay in Slack's ``<@U123|name>`` form; the core reads ``<@U…>``.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.directory import Profile
from adapters.slack.render import form_values, neutral_action_id
from bot.kernel.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    DirectMessageEvent,
    FileUploadedEvent,
    FormSubmittedEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    Place,
    SentRef,
)

PLATFORM = "slack"


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


def command_event(body: dict[str, Any], who: Actor) -> CommandEvent:
    channel = body.get("channel_id") or None
    place = Place(channel_id=channel, is_direct=is_direct_channel(channel, body.get("channel_name")))
    return CommandEvent(actor=who, text=(body.get("text") or "").strip(), place=place)


def mention_event(event: dict[str, Any], who: Actor) -> CommandEvent:
    """Someone @-mentioned Tandem in a channel: answer with help, in the thread of their message."""
    thread = event.get("thread_ts") or event.get("ts")
    return CommandEvent(actor=who, text="help", place=Place(channel_id=event.get("channel"), thread_id=thread))


def direct_message_event(event: dict[str, Any], who: Actor) -> DirectMessageEvent:
    place = Place(channel_id=event.get("channel"), thread_id=event.get("thread_ts"), is_direct=True)
    return DirectMessageEvent(actor=who, text=(event.get("text") or "").strip(), place=place)


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


def file_event(event: dict[str, Any], who: Actor, filename: str, content: bytes) -> FileUploadedEvent:
    place = Place(channel_id=event.get("channel"), thread_id=event.get("thread_ts"), is_direct=True)
    return FileUploadedEvent(
        actor=who, filename=filename, content=content, text=(event.get("text") or "").strip(), place=place
    )


def member_joined(event: dict[str, Any], who: Actor) -> MemberJoinedEvent:
    return MemberJoinedEvent(actor=who, channel_id=event.get("channel", ""))


def member_left(event: dict[str, Any], who: Actor) -> MemberLeftEvent:
    return MemberLeftEvent(actor=who, channel_id=event.get("channel", ""))


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
        actor=who, form_id=view.get("callback_id", ""), values=values, state=view.get("private_metadata") or ""
    )
