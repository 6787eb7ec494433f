"""The day's digest through the real Slack adapter: held overnight, posted as one message with every part's
buttons, and a click on one part (a signed block_actions request) replaces only that part via response_url.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.clock import SimulatedClock
from bot.kernel.messages import Actions, Message, Section, Text, text_message
from bot.programs.buttons import JOIN, ProgramRef
from storage.database import Database
from storage.tables import Delivery, Program, Workspace
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_harness import Harness, slack_config
from tests.slack.slack_support import load

PERSON = "U222"
NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # Monday 22:00 for a reader in UTC
MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
async def paced(database: Database, fake: FakeSlack) -> AsyncIterator[tuple[Harness, SimulatedClock]]:
    clock = SimulatedClock(start=NIGHT)
    core = Tandem(database, clock=clock)
    app = web.Application()
    mount(app, core, slack_config(fake))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    yield h, clock
    await h.settle()
    await client.close()


async def test_a_nights_messages_arrive_as_one_slack_message_whose_parts_stay_clickable(paced) -> None:  # noqa: ANN001
    h, clock = paced
    async with h.core.db.transaction() as s:
        ws = Workspace(platform="slack", external_id="T111", name="Test")
        s.add(ws)
        await s.flush()
        program = Program(workspace_id=ws.id or 0, name="Coffee chats", channel_id="C111", kind="peer")
        s.add(program)
        await s.flush()
        invite = Message(
            summary="Join Coffee chats?",
            blocks=(
                Section(text=Text.of("Join Coffee chats?")),
                Actions(elements=(JOIN.button("Join", ProgramRef(program.id or 0)),)),
            ),
        )
        items = [
            Outgoing("n1", "prompt", to_user(PERSON), text_message("This week: a book you loved"), program.id),
            Outgoing("n2", "import_invite", to_user(PERSON), invite, program.id),
        ]
        await enqueue(s, ws.id or 0, items, clock.now())

    assert await h.core.dispatch() == 0, "nothing at 22:00"
    assert h.fake.called("chat.postMessage") == []
    clock.set(MORNING)
    assert await h.core.dispatch() == 1
    [post] = h.fake.called("chat.postMessage")
    blocks = post.args["blocks"]
    assert post.args["channel"] == PERSON
    assert [b["type"] for b in blocks].count("divider") == 2
    assert "a book you loved" in str(blocks) and "Join Coffee chats?" in str(blocks)
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    async with h.core.db.session() as s:
        parts = (await s.exec(select(Delivery).where(Delivery.idempotency_key.in_(["n1", "n2"])))).all()
    assert {p.state for p in parts} == {"sent"}

    click = copy.deepcopy(load("interactivity/block_actions_button.json"))
    click["user"]["id"] = PERSON
    click["team"]["id"] = "T111"
    click["container"].update(channel_id=PERSON, message_ts=parts[0].platform_message_id, is_ephemeral=False)
    click["response_url"] = h.fake.hook_url("click")
    click["actions"][0].update(action_id=button["action_id"], value=button["value"], block_id=None)
    assert (await h.interact(click)).status == 200
    await h.settle()
    hook = h.fake.hooks[-1]
    assert hook["replace_original"] is True
    assert "a book you loved" in str(hook["blocks"]), "the other part is still there"
    assert "You're in Coffee chats" in str(hook["blocks"]) and "Join Coffee chats?" not in str(hook["blocks"])
