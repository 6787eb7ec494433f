"""Helpers for the Slack tests: load the recorded Slack payloads, sign requests like Slack does."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.support import fixtures

SECRET = "test-signing-secret"
TEAM_ID = "T111"


def load(relative: str) -> Any:
    """A recorded Slack payload under ``tests/fixtures/slack``: JSON parsed, form bodies as text."""
    return fixtures.load("slack", *relative.split("/"))


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def json_request(payload: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", **sign(body, **sign_args)}


def form_request(fields: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    body = urlencode(fields).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **sign_args)}


def interactive_request(payload: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    return form_request({"payload": json.dumps(payload)}, **sign_args)


_TRIGGERS = itertools.count(1)  # Slack's trigger_ids are unique per interaction, and the core acts once per id


def slash_command(
    text: str, *, user: str, channel: str, response_url: str, user_name: str = "someone", team: str = TEAM_ID
) -> dict[str, str]:
    """bolt-python's recorded slash command form, pointed at Tandem's command and the fake response_url."""
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(load("commands/slash_command_hello_world.form.txt"), keep_blank_values=True))
    fields.update(
        command="/tandem",
        text=text,
        user_id=user,
        user_name=user_name,
        channel_id=channel,
        team_id=team,
        response_url=response_url,
        trigger_id=f"trig-{user}-{next(_TRIGGERS)}",  # unique per invocation, as Slack's are
    )
    return fields


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str, team: str = TEAM_ID) -> dict[str, Any]:
    """bolt-python's recorded view_submission with our modal in it, filled in with ``values``."""
    payload = load("interactivity/view_submission.json")
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        key = block["block_id"]
        value = values.get(key)
        if el["type"] == "plain_text_input":
            state[key] = {
                el["action_id"]: {"type": el["type"], "value": value if key in values else el.get("initial_value")}
            }
        elif el["type"] == "multi_static_select":
            chosen = (
                [o for o in el["options"] if o["value"] in (value or [])]
                if key in values
                else el.get("initial_options", [])
            )
            state[key] = {el["action_id"]: {"type": el["type"], "selected_options": chosen}}
        else:
            chosen = (
                next((o for o in el["options"] if o["value"] == value), None)
                if key in values
                else el.get("initial_option")
            )
            state[key] = {el["action_id"]: {"type": el["type"], "selected_option": chosen}}
    payload["view"].update(
        blocks=view["blocks"],
        callback_id=view["callback_id"],
        private_metadata=view.get("private_metadata", ""),
        state={"values": state},
    )
    payload["user"].update(id=user)
    payload["team"]["id"] = team
    payload["trigger_id"] = f"trig-view-{user}-{next(_TRIGGERS)}"  # each submission gets its own, as in Slack
    return payload
