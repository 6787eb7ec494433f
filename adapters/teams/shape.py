"""The shape every activity must have before the Teams turn reads it.

botbuilder's deserializer keeps whatever types arrive (``text`` as a list, ``from.name`` as an object), so
``problem`` checks the fields Tandem reads, once, after authentication: an activity that does not fit
gets 400 and one log line instead of failing mid-turn. Fields Tandem does not read are left alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

Id = Annotated[str, StringConstraints(max_length=256)]
Short = Annotated[str, StringConstraints(max_length=256)]
Name = Annotated[str, StringConstraints(max_length=1_000)]
Text = Annotated[str, StringConstraints(max_length=28_000)]  # Teams' own message limit is about 28 KB


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Account(_Shape):
    id: Id | None = None
    name: Name | None = None
    aadObjectId: Short | None = None


class _Conversation(_Shape):
    id: Id | None = None
    conversationType: Short | None = None
    isGroup: bool | None = None
    tenantId: Short | None = None
    name: Name | None = None


class _Ref(_Shape):
    id: Id | None = None
    name: Name | None = None


class _ChannelData(_Shape):
    tenant: _Ref | None = None
    team: _Ref | None = None
    channel: _Ref | None = None
    eventType: Short | None = None


class _Entity(_Shape):
    type: Short | None = None
    text: Text | None = None
    mentioned: _Account | None = None
    timezone: Short | None = None


class _Activity(_Shape):
    type: Short
    id: Short | None = None
    name: Short | None = None
    channelId: Short | None = None
    text: Text | None = None
    replyToId: Short | None = None
    localTimezone: Short | None = None
    action: Short | None = None
    from_: _Account | None = None
    recipient: _Account | None = None
    conversation: _Conversation | None = None
    channelData: _ChannelData | None = None
    entities: list[_Entity] | None = None
    membersAdded: list[_Account] | None = None
    membersRemoved: list[_Account] | None = None
    value: Any = None


def problem(raw: dict[str, Any]) -> str | None:
    """Why this activity cannot be acted on, or ``None`` when it has the shape Tandem reads."""
    try:
        _Activity.model_validate({("from_" if k == "from" else k): v for k, v in raw.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).replace("from_", "from") or "activity"
        return f"{where}: {first['msg']}"
    return None
