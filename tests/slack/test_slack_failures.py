"""Nothing fails silently on Slack: passing 5xx are retried, permanent failures reach the admin once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from storage.database import Database
from storage.tables import Delivery
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_harness import Harness, slack_config
from tests.slack.test_slack_commands import ADMIN, create_program, rows, run

PEOPLE = [f"U{n}" for n in range(401, 411)]  # ten people: five pairs


@pytest.fixture
async def quick(database: Database, fake: FakeSlack) -> AsyncIterator[Harness]:
    """The Slack harness with the SDK's retry backoff at 10 ms, so passing errors cost no real waiting."""
    core = Tandem(database, pacing=False)  # quiet hours off: the wall clock's time of day must not matter
    app = web.Application()
    mount(app, core, slack_config(fake, retry_backoff=0.01))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    yield h
    await h.settle()
    await client.close()


async def _round(h: Harness) -> None:
    await create_program(h)
    for person in PEOPLE:
        await run(h, "join", user=person)
    assert "Matching a new round" in (await run(h, "match now", user=ADMIN))["text"]


def _notices(h: Harness) -> list[str]:
    """What the admin was told in their DM about messages that could not be delivered."""
    return [
        " ".join(b["text"]["text"] for b in c.args["blocks"] if b.get("type") == "section")
        for c in h.fake.called("chat.postMessage")
        if c.args.get("channel") == ADMIN and "could not be delivered" in str(c.args.get("text"))
    ]


async def _home_of(h: Harness, user: str) -> str:
    """What the person's Home tab shows once they open it (app_home_opened → views.publish)."""
    import copy

    from tests.slack.slack_support import load

    payload = copy.deepcopy(load("events/event_callback_app_home_opened_home_tab.json"))
    payload["team_id"] = "T111"
    payload["event"]["user"] = user
    payload["event_id"] = f"Ev-home-{len(h.fake.called('views.publish'))}"
    assert (await h.event(payload)).status == 200
    await h.settle()
    return str(h.fake.called("views.publish")[-1].args["view"]["blocks"])


async def test_a_round_with_one_call_in_five_failing_with_a_500_delivers_every_intro(quick: Harness) -> None:
    await _round(quick)
    quick.fake.fail_every = 5
    await quick.core.dispatch()
    intros = [d for d in await rows(quick, Delivery) if d.step == "intro"]
    assert len(intros) == 5 and quick.fake.answered_500 >= 2
    assert {d.state for d in intros} == {"sent"}
    groups = {c.args["channel"] for c in quick.fake.called("chat.postMessage") if c.ok and c.args["channel"][0] == "G"}
    assert len(groups) == 5  # every pair got its intro, none twice
    assert _notices(quick) == []


async def test_a_missing_scope_tells_the_admin_once_with_the_fix(quick: Harness) -> None:
    await _round(quick)
    quick.fake.fail_next("conversations.open", "missing_scope", times=5)
    await quick.core.dispatch()  # the notice goes out in the same pass, not a tick later
    [notice] = _notices(quick)
    assert notice.startswith("⚠️ 5 intros of round 1 of")
    assert "reinstall" in notice.lower() and "resend failed" in notice
    intros = [d for d in await rows(quick, Delivery) if d.step == "intro"]
    assert {d.state for d in intros} == {"failed"}
    await quick.core.dispatch()
    assert len(_notices(quick)) == 1  # told once, however often the sender runs

    status = str((await run(quick, "status", user=ADMIN))["blocks"])
    assert "5 failed" in status and "Reinstall" in status  # shown until resolved
    assert "Reinstall" in await _home_of(quick, ADMIN)  # and on the Home tab

    resent = await run(quick, "resend failed", user=ADMIN)  # after the reinstall
    assert "Sending 5 messages" in resent["text"]
    await quick.core.dispatch()
    intros = [d for d in await rows(quick, Delivery) if d.step == "intro"]
    assert {d.state for d in intros} == {"sent"}
    assert "Reinstall" not in str((await run(quick, "status", user=ADMIN))["blocks"])
    assert len(_notices(quick)) == 1


async def test_a_404_gives_up_at_once_and_a_503_is_retried(quick: Harness) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_slack_response import AsyncSlackResponse

    from adapters.slack.errors import to_send_error

    def answer(status: int) -> SlackApiError:
        response = AsyncSlackResponse(
            client=None,  # type: ignore[arg-type]
            http_verb="POST",
            api_url="x",
            req_args={},
            data={"ok": False},
            headers={},
            status_code=status,
        )
        return SlackApiError("failed", response)

    assert not to_send_error("chat.postMessage", answer(404)).retryable
    assert not to_send_error("chat.postMessage", answer(400)).retryable
    assert to_send_error("chat.postMessage", answer(503)).retryable
    assert to_send_error("chat.postMessage", answer(500)).retryable


async def test_a_click_that_fails_is_answered_with_an_apology_and_changes_nothing(quick: Harness) -> None:
    import copy

    from storage.tables import Membership, ProcessedEvent
    from tests.slack.slack_support import load
    from tests.support.refuse import refuse_inserts

    program = await create_program(quick)
    await refuse_inserts(quick.core.db, "membership")
    click = copy.deepcopy(load("interactivity/block_actions_button.json"))
    click["user"]["id"] = "U222"
    click["response_url"] = quick.fake.hook_url("click")
    click["actions"][0].update(action_id="program:join", value=str(program.id))
    assert (await quick.interact(click)).status == 200
    await quick.settle()
    answer = quick.fake.hooks[-1]
    assert "nothing was changed" in answer["text"] and answer["response_type"] == "ephemeral"
    assert await rows(quick, Membership) == []
    assert not [e for e in await rows(quick, ProcessedEvent) if ":action:" in e.key]  # a retry may try again


async def test_a_program_left_unnamed_is_named_after_its_channel_and_group_intros_address_the_group(
    quick: Harness,
) -> None:
    from storage.tables import Program
    from tests.slack.slack_support import form_request, slash_command, view_submission
    from tests.slack.test_slack_commands import PERSON

    quick.fake.admins.add(ADMIN)
    await quick.post(
        *form_request(
            slash_command("program create", user=ADMIN, channel="C111", response_url=quick.fake.hook_url("c"))
        )
    )
    await quick.settle()
    view = quick.fake.called("views.open")[-1].args["view"]
    assert (await quick.interact(view_submission(view, {"name": "", "channel": "C111"}, user=ADMIN))).status == 200
    await quick.settle()
    [program] = await rows(quick, Program)
    assert program.name == "Peer in #coffee-chats"
    assert len(quick.fake.called("conversations.info")) == 1  # looked up once, when the program was made
    for person in (PERSON, "U333"):
        await run(quick, "join", user=person)
    await run(quick, "match now", user=ADMIN)
    await quick.core.dispatch()
    [intro] = [c for c in quick.fake.called("chat.postMessage") if c.args["channel"].startswith("G")]
    assert intro.args["text"].endswith(": you're matched in Peer in #coffee-chats")  # the notification line
    assert not intro.args["text"].startswith("You're matched with")


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]


async def _click(h: Harness, user: str, button: dict) -> None:
    import copy

    from tests.slack.slack_support import load

    click = copy.deepcopy(load("interactivity/block_actions_button.json"))
    click["user"]["id"] = user
    click["response_url"] = h.fake.hook_url(f"click-{user}")
    click["actions"][0].update(action_id=button["action_id"], value=button["value"], block_id=None)
    assert (await h.interact(click)).status == 200
    await h.settle()


async def test_once_a_chat_is_booked_the_intro_and_proposal_buttons_close(quick: Harness) -> None:
    from tests.slack.test_slack_commands import PERSON

    await create_program(quick)
    for person in (PERSON, "U333"):
        await run(quick, "join", user=person)
    await run(quick, "match now", user=ADMIN)
    await quick.core.dispatch()
    [intro] = [c for c in quick.fake.called("chat.postMessage") if c.args["channel"].startswith("G")]
    propose = next(b for b in _buttons(intro.args["blocks"]) if b["action_id"] == "book:propose")
    await _click(quick, PERSON, propose)
    await quick.core.dispatch()
    proposal = [c for c in quick.fake.called("chat.postMessage") if c.args["channel"].startswith("G")][-1]
    accept = next(b for b in _buttons(proposal.args["blocks"]) if b["action_id"] == "book:accept")
    await _click(quick, "U333", accept)
    assert "Booked" in quick.fake.hooks[-1]["text"]
    await quick.core.dispatch()
    updates = quick.fake.called("chat.update")
    closed = {
        d.platform_message_id
        for d in await rows(quick, Delivery)
        if d.step == "intro" or ":proposal:" in d.idempotency_key
    }
    assert len(closed) == 2 and {u.args["ts"] for u in updates} == closed
    for update in updates:
        assert not [b for b in _buttons(update.args["blocks"]) if b["action_id"].startswith("book:")]
        assert "buttons are closed" in str(update.args["blocks"])
    await quick.core.dispatch()
    assert len(quick.fake.called("chat.update")) == 2  # closed once
