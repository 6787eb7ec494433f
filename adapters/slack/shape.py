"""The shape every signed Slack payload must have before bolt or a listener looks at it.

A valid signature proves the bytes came from someone holding the signing secret, not that they look like
what Slack sends. ``problem`` checks the fields Tandem reads (types and lengths) once, here, so a listener
never meets ``event: null``, ``user`` as an object or ``actions`` as a string; such a payload gets 400 and
one log line. Fields Tandem does not read are left alone (``extra="allow"``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from adapters.bounds import MAX_JSON_DEPTH, depth_of

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]  # every id column is 128 wide
Short = Annotated[str, StringConstraints(max_length=256)]
Text = Annotated[str, StringConstraints(max_length=40_000)]  # Slack's own limit on a message's text
Name = Annotated[str, StringConstraints(max_length=1_000)]  # trimmed to 200 later, on the Actor

# the events Tandem listens to, whose ``user`` and ``channel`` are ids (others, e.g. user_change, differ)
HANDLED_EVENTS = frozenset(
    {"message", "app_mention", "member_joined_channel", "member_left_channel", "app_home_opened"}
)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _EventHead(_Shape):
    type: Short


class _Event(_Shape):
    type: Short
    user: Id | None = None
    channel: Id | None = None
    text: Text | None = None
    ts: Short | None = None
    thread_ts: Short | None = None
    channel_type: Short | None = None
    subtype: Short | None = None
    bot_id: Short | None = None
    tab: Short | None = None
    files: list[dict[str, Any]] | None = None


class _EventCallback(_Shape):
    type: Short
    team_id: Id | None = None
    enterprise_id: Id | None = None
    api_app_id: Short | None = None
    event_id: Short | None = None
    event: dict[str, Any]
    authorizations: list[dict[str, Any]] | None = None


class _Other(_Shape):
    type: Short
    challenge: Short | None = None
    token: Short | None = None


class _Command(_Shape):
    command: Short
    user_id: Id
    team_id: Id
    trigger_id: Short | None = None
    text: Text = ""
    channel_id: Id | None = None
    channel_name: Short | None = None
    user_name: Name | None = None
    response_url: Short | None = None
    enterprise_id: Id | None = None


class _Ref(_Shape):
    id: Id


class _User(_Shape):
    id: Id
    name: Name | None = None
    username: Name | None = None
    team_id: Id | None = None


class _Action(_Shape):
    action_id: Short
    block_id: Short | None = None
    value: Text | None = None
    action_ts: Short | None = None


class _State(_Shape):
    values: dict[str, dict[str, dict[str, Any]]]


class _View(_Shape):
    id: Short | None = None
    callback_id: Short | None = None
    private_metadata: Text | None = None
    state: _State | None = None


class _Container(_Shape):
    channel_id: Id | None = None
    message_ts: Short | None = None
    thread_ts: Short | None = None


class _Message(_Shape):
    ts: Short | None = None


class _Interaction(_Shape):
    type: Short
    user: _User
    team: _Ref | None = None
    enterprise: _Ref | None = None
    trigger_id: Short | None = None
    response_url: Short | None = None
    actions: list[_Action] | None = None
    view: _View | None = None
    container: _Container | None = None
    channel: _Ref | None = None
    message: _Message | None = None
    team_id: Id | None = None
    enterprise_id: Id | None = None
    # read by bolt's own listener matchers (shortcuts, message actions, drop-down suggestions) before any
    # listener runs: a list here crashed the matcher with a 500
    callback_id: Short | None = None
    action_id: Short | None = None
    block_id: Short | None = None
    value: Text | None = None


def problem(body: Any) -> str | None:
    """Why this parsed Slack payload cannot be acted on, or ``None`` when it has the shape Tandem reads."""
    if not isinstance(body, dict) or not body:
        return "the body is not a Slack payload"
    if depth_of(body) > MAX_JSON_DEPTH:
        return "the payload nests too deep"
    try:
        _validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return f"{where}: {first['msg']}"
    return None


def _validate(body: dict[str, Any]) -> None:
    if "command" in body:
        _Command.model_validate(body)
    elif body.get("type") == "event_callback":
        callback = _EventCallback.model_validate(body)
        head = _EventHead.model_validate(callback.event)
        if head.type in HANDLED_EVENTS:
            _Event.model_validate(callback.event)
    elif "user" in body or "actions" in body or "view" in body:
        _Interaction.model_validate(body)
    else:
        _Other.model_validate(body)
