"""Back-pressure through the real bolt app on loopback: the backlog stays bounded, a full one turns requests
away before they are acked (in the way Slack and the person understand), and nothing accepted is lost."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from adapters.slack.backpressure import BUSY
from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from bot.kernel.events import Event, Response
from storage.database import Database
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_harness import Harness, slack_config
from tests.slack.slack_support import form_request, load, slash_command

LIMIT = 4  # headroom: LIMIT // 4 = 1 place for what Slack won't send again


@pytest.fixture
async def blocked(database: Database, fake: FakeSlack) -> AsyncIterator[tuple[Harness, asyncio.Event, list[Event]]]:
    """A server whose core waits for ``gate`` on every event: the backlog fills and stays full until it opens."""
    core = Tandem(database, pacing=False)
    gate = asyncio.Event()
    seen: list[Event] = []
    real = core.handle

    async def handle(event: Event) -> Response:
        seen.append(event)
        await gate.wait()
        return await real(event)

    core.handle = handle  # type: ignore[method-assign]
    app = web.Application()
    mount(app, core, slack_config(fake, backlog_limit=LIMIT, background_concurrency=2))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    yield h, gate, seen
    gate.set()
    await h.settle()
    await client.close()


def _dm(number: int) -> dict[str, Any]:
    payload = copy.deepcopy(load("events/event_callback_message_im.json"))
    payload["event_id"] = f"Ev-bp-{number}"
    payload["event"]["text"] = "help"
    payload["event"]["ts"] = payload["event"]["event_ts"] = f"1700000000.{number:06d}"
    return payload


def _click(number: int) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0001", "name": "u", "team_id": "T111"},
        "api_app_id": "A111",
        "token": "x",
        "trigger_id": f"{number}.2.x",
        "team": {"id": "T111", "domain": "t"},
        "channel": {"id": "D111", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "D111", "is_ephemeral": False},
        "actions": [
            {
                "action_id": "pause:resume",
                "block_id": "b",
                "value": "",
                "type": "button",
                "action_ts": f"1700000100.{number:06d}",
            }
        ],
    }


async def test_a_full_backlog_turns_requests_away_before_the_ack_and_loses_nothing_accepted(
    blocked: tuple[Harness, asyncio.Event, list[Event]], caplog: pytest.LogCaptureFixture
) -> None:
    h, gate, seen = blocked
    caplog.set_level(logging.INFO, logger="tandem.slack")
    accepted = [await h.event(_dm(i)) for i in range(LIMIT)]
    assert [r.status for r in accepted] == [200] * LIMIT
    assert h.adapter.background.pending == LIMIT, "all accepted, none finished: the core is blocked"

    shed_events = [await h.event(_dm(i)) for i in range(LIMIT, LIMIT + 3)]
    assert [r.status for r in shed_events] == [503] * 3, "not acked: Slack sends them again"
    command = await h.post(
        *form_request(slash_command("help", user="U0001", channel="C111", response_url=h.fake.hook_url()))
    )
    assert command.status == 200 and json.loads(await command.text()) == {"response_type": "ephemeral", "text": BUSY}
    clicks = [await h.interact(_click(i)) for i in range(2)]
    assert [r.status for r in clicks] == [200, 503], "a click may use the headroom, then Slack shows it failed"
    last_retry = await h.event(_dm(LIMIT + 3), **{"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_error"})
    assert last_retry.status == 503, "the headroom is used up by the click"

    bound = LIMIT + h.adapter.background.headroom
    assert h.adapter.background.max_pending == bound
    assert REGISTRY.get_sample_value("tandem_slack_backlog") == bound, "/metrics shows the backlog"
    lines = [r for r in caplog.records if "backlog full" in r.getMessage()]
    assert len(lines) == 1, "one line, not one per request"
    assert "backlog full (4 waiting; bound 4, +1" in lines[0].getMessage() and "1 event" in lines[0].getMessage()

    gate.set()
    await h.settle()
    handled = {getattr(e, "event_id", None) for e in seen}
    assert {f"Ev-bp-{i}" for i in range(LIMIT)} <= handled, "every accepted event reached the core"
    assert not {f"Ev-bp-{i}" for i in range(LIMIT, LIMIT + 4)} & handled, "nothing turned away was half-done"
    assert len(seen) == LIMIT + 1, "the accepted DMs and the one accepted click"
    answers = [c.args.get("text") for c in h.fake.called("chat.postMessage")]
    assert answers.count("Tandem help") == LIMIT and len(answers) == LIMIT + 1, "each accepted one answered once"

    again = await h.event(_dm(LIMIT), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert again.status == 200, "Slack's retry finds room"
    await h.settle()
    assert f"Ev-bp-{LIMIT}" in {getattr(e, "event_id", None) for e in seen}
    assert any("room again" in r.getMessage() for r in caplog.records)


def test_the_bound_comes_from_tandem_slack_backlog() -> None:
    from adapters.slack.config import SlackConfig
    from tandem.settings import Settings

    assert SlackConfig.from_settings(Settings(TANDEM_SLACK_BACKLOG=7)).backlog_limit == 7  # type: ignore[call-arg]
    assert SlackConfig.from_settings(Settings()).backlog_limit == 1000
