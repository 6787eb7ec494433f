"""Hostile or oddly shaped Slack requests through the real endpoint: a clean 2xx/4xx, no traceback, no row."""

from __future__ import annotations

import copy
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.tables import Delivery, Membership, ProcessedEvent, User
from tests.slack.slack_support import form_request, interactive_request, json_request, load, sign, slash_command

WRITTEN = (User, Membership, ProcessedEvent, Delivery)


async def _rows(h: Any) -> dict[str, int]:
    async with h.core.db.session() as s:
        return {t.__name__: (await s.exec(select(func.count()).select_from(t))).one() for t in WRITTEN}


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "timestamp", ["9" * 401, "-1", "1e9", "", " ", "0x10", "１２３", str(int(time.time())) + ".5", "9" * 5000]
)
async def test_absurd_timestamps_are_refused_before_anything(harness, caplog, timestamp) -> None:  # noqa: ANN001
    body, headers = json_request(load("events/event_callback_message_im.json"))
    headers["X-Slack-Request-Timestamp"] = timestamp
    with caplog.at_level(logging.INFO):
        resp = await harness.post(body, headers)
    assert resp.status == 401
    _no_traceback(caplog)


def _event(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("events/event_callback_message_im.json"))
    payload.update(changes)
    return payload


def _event_field(**changes: Any) -> dict[str, Any]:
    payload = _event()
    payload["event"].update(changes)
    return payload


def _click(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("interactivity/block_actions_button.json"))
    payload.update(changes)
    return payload


def _view(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("interactivity/view_submission.json"))
    payload.update(changes)
    return payload


def _shortcut(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("interactivity/shortcut_global.json"))
    payload.update(changes)
    return payload


def _view_state_list() -> dict[str, Any]:
    payload = _view()
    payload["view"]["state"] = {"values": [1, 2]}
    return payload


ODD_EVENTS = {
    "event-null": _event(event=None),
    "event-string": _event(event="message"),
    "event-list": _event(event=[1]),
    "user-dict": _event_field(user={"id": "U1"}),
    "text-list": _event_field(text=["hello"]),
    "channel-dict": _event_field(channel={"id": "D1"}),
    "team-list": _event(team_id=["T1"]),
    "event-id-dict": _event(event_id={"x": 1}),
}
ODD_INTERACTIONS = {
    "actions-string": _click(actions="join"),
    "actions-of-strings": _click(actions=["join"]),
    "user-string": _click(user="U1"),
    "view-string": _view(view="modal"),
    "state-values-list": _view_state_list(),
    "view-state-string": _view(view={"callback_id": "profile", "state": "x"}),
    "type-dict": _click(type={"a": 1}),
    "shortcut-callback-list": _shortcut(callback_id=[]),  # bolt's matcher ran a regex on it: a 500
    "suggestion-action-dict": _shortcut(type="block_suggestion", action_id={"x": 1}, value="py"),
}


@pytest.mark.parametrize("name", list(ODD_EVENTS), ids=list(ODD_EVENTS))
async def test_oddly_shaped_signed_events_are_answered_cleanly(harness, caplog, name) -> None:  # noqa: ANN001
    with caplog.at_level(logging.INFO):
        resp = await harness.event(ODD_EVENTS[name])
        await harness.settle()
    assert resp.status in (200, 400)
    _no_traceback(caplog)
    assert await _rows(harness) == {"User": 0, "Membership": 0, "ProcessedEvent": 0, "Delivery": 0}


@pytest.mark.parametrize("name", list(ODD_INTERACTIONS), ids=list(ODD_INTERACTIONS))
async def test_oddly_shaped_signed_interactions_are_answered_cleanly(harness, caplog, name) -> None:  # noqa: ANN001
    with caplog.at_level(logging.INFO):
        resp = await harness.post(*interactive_request(ODD_INTERACTIONS[name]))
        await harness.settle()
    assert resp.status in (200, 400)
    _no_traceback(caplog)
    assert await _rows(harness) == {"User": 0, "Membership": 0, "ProcessedEvent": 0, "Delivery": 0}


@pytest.mark.parametrize("payload", ["[1]", '"x"', "null", "{", "[" * 5000 + "]" * 5000])
async def test_signed_interaction_payload_that_is_not_an_object(harness, caplog, payload) -> None:  # noqa: ANN001
    with caplog.at_level(logging.INFO):
        resp = await harness.post(*form_request({"payload": payload}))
        await harness.settle()
    assert resp.status in (200, 400)
    _no_traceback(caplog)


async def test_deeply_nested_signed_json_gets_400(harness, caplog) -> None:  # noqa: ANN001
    body = ("[" * 100_000 + "]" * 100_000).encode()
    with caplog.at_level(logging.INFO):
        resp = await harness.post(body, {"Content-Type": "application/json", **sign(body)})
    assert resp.status == 400
    _no_traceback(caplog)


@pytest.mark.parametrize("missing", ["user_id", "team_id"])
async def test_a_command_without_user_or_team_is_refused(harness, caplog, missing) -> None:  # noqa: ANN001
    fields = slash_command("join", user="U1", channel="C1", response_url=harness.fake.hook_url("cmd"))
    fields.pop(missing)
    with caplog.at_level(logging.INFO):
        resp = await harness.post(*form_request(fields))
        await harness.settle()
    assert resp.status in (200, 400)
    _no_traceback(caplog)
    assert await _rows(harness) == {"User": 0, "Membership": 0, "ProcessedEvent": 0, "Delivery": 0}


async def test_a_replayed_slash_command_acts_once(harness) -> None:  # noqa: ANN001
    fields = slash_command("help", user="U1", channel="C1", response_url=harness.fake.hook_url("cmd"))
    body = urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    for _ in range(3):
        resp = await harness.post(body, headers)
        assert resp.status == 200
        await harness.settle()
    assert len(harness.fake.hooks) == 1
    async with harness.core.db.session() as s:
        keys = (await s.exec(select(ProcessedEvent.key))).all()
    assert [k for k in keys if fields["trigger_id"] in k]
