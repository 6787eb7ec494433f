"""Events API callbacks end to end: member joins, Home tab, DMs, mentions, retries, strangers."""

from __future__ import annotations

import copy

from sqlalchemy import func
from sqlmodel import select

from storage.tables import Delivery, Membership, ProcessedEvent, User, Workspace
from tests.slack.slack_support import load
from tests.slack.test_slack_commands import PERSON, create_program, rows


def joined(user: str, channel: str = "C111", event_id: str = "Ev-join-1") -> dict:
    payload = copy.deepcopy(load("events/event_callback_member_joined_channel.json"))
    payload["event"].update(user=user, channel=channel)
    payload["event_id"] = event_id
    return payload


async def count(h, model) -> int:  # noqa: ANN001
    async with h.core.db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_member_joining_a_program_channel_is_invited_then_joins_by_button(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    resp = await harness.event(joined(PERSON))
    assert resp.status == 200
    await harness.settle()
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.status == "invited"  # never enrolled without consent
    [delivery] = await rows(harness, Delivery, Delivery.step == "welcome")
    assert delivery.target == {"kind": "user", "user_id": PERSON}

    assert await harness.core.dispatch() >= 1
    post = harness.fake.called("chat.postMessage")[-1].args
    assert post["channel"] == PERSON
    join_button = next(e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert join_button["action_id"] == "program:join"

    click = copy.deepcopy(load("interactivity/block_actions_button.json"))
    click["user"]["id"] = PERSON
    click["container"].update(channel_id="D222", message_ts="1700000000.000001", is_ephemeral=False)
    click["response_url"] = harness.fake.hook_url("click")
    click["actions"][0].update(action_id=join_button["action_id"], value=join_button["value"], block_id=None)
    resp = await harness.interact(click)
    assert resp.status == 200
    await harness.settle()
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.status == "active"
    hook = harness.fake.hooks[-1]
    assert hook["replace_original"] is True and "You're in Coffee chats" in hook["text"]

    resp = await harness.event(
        joined(PERSON, event_id="Ev-left-1") | {"event": {**joined(PERSON)["event"], "type": "member_left_channel"}}
    )
    await harness.settle()
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.status == "left"


async def test_a_double_click_records_one_answer(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    click = copy.deepcopy(load("interactivity/block_actions_button.json"))
    click["user"]["id"] = PERSON
    click["response_url"] = harness.fake.hook_url("click")
    click["actions"][0].update(action_id="program:join", value=str(program.id))
    first, second = await harness.interact(click), await harness.interact(click)
    assert first.status == second.status == 200
    await harness.settle()
    assert sum(1 for h in harness.fake.hooks if "You're in" in h.get("text", "")) == 1
    assert len(await rows(harness, Membership, Membership.program_id == program.id)) == 1
    keys = [e.key for e in await rows(harness, ProcessedEvent)]
    assert sum(":action:" in k for k in keys) == 1


async def test_bot_joining_a_channel_is_ignored(harness, conformance) -> None:  # noqa: ANN001
    payload = load("events/event_callback_member_joined_channel_bot_itself.json")
    resp = await harness.event(payload)
    assert resp.status == 200
    await harness.settle()
    assert await count(harness, User) == 0


async def test_home_tab_is_published(harness, conformance) -> None:  # noqa: ANN001
    payload = copy.deepcopy(load("events/event_callback_app_home_opened_home_tab.json"))
    payload["team_id"] = "T111"
    resp = await harness.event(payload)
    assert resp.status == 200
    await harness.settle()
    [call] = harness.fake.called("views.publish")
    assert call.args["user_id"] == payload["event"]["user"]
    assert call.args["view"]["type"] == "home" and call.args["view"]["blocks"][0]["type"] == "header"


async def test_messages_tab_does_not_publish(harness, conformance) -> None:  # noqa: ANN001
    payload = copy.deepcopy(load("events/event_callback_app_home_opened_messages_tab_org_app.json"))
    payload["authorizations"][0]["team_id"] = "T111"
    resp = await harness.event(payload)
    assert resp.status == 200
    await harness.settle()
    assert harness.fake.called("views.publish") == []


async def test_direct_message_is_answered_in_the_dm(harness, conformance) -> None:  # noqa: ANN001
    payload = copy.deepcopy(load("events/event_callback_message_im.json"))
    payload["event"]["text"] = "help"
    resp = await harness.event(payload)
    assert resp.status == 200
    await harness.settle()
    [post] = harness.fake.called("chat.postMessage")
    assert post.args["channel"] == "D111"
    assert post.args["thread_ts"] == payload["event"]["thread_ts"]
    assert "pause" in str(post.args["blocks"])


async def test_channel_messages_and_bot_messages_are_ignored(harness, conformance) -> None:  # noqa: ANN001
    channel = load("events/event_callback_message_channel.json")
    channel["authorizations"][0]["user_id"] = "W23456789"
    im = copy.deepcopy(load("events/event_callback_message_im.json"))
    im["event_id"] = "Ev-edit"
    im["event"]["subtype"] = "message_changed"
    for payload in (channel, im):
        assert (await harness.event(payload)).status == 200
    await harness.settle()
    assert harness.fake.called("chat.postMessage") == []


async def test_mention_gets_help_in_thread_and_a_retry_is_processed_once(harness, conformance) -> None:  # noqa: ANN001
    payload = load("events/event_callback_app_mention.json")
    first = await harness.event(payload)
    await harness.settle()
    retry = await harness.event(payload, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await harness.settle()
    assert first.status == retry.status == 200
    [post] = harness.fake.called("chat.postMessage")
    assert post.args["channel"] == "C111" and post.args["thread_ts"] == payload["event"]["ts"]
    assert "join" in str(post.args["blocks"])
    assert [e.key for e in await rows(harness, ProcessedEvent)] == ["slack:event:Ev111"]


async def test_mention_with_blocks_fixture(harness, conformance) -> None:  # noqa: ANN001
    payload = load("events/event_callback_app_mention_with_blocks.json")
    assert (await harness.event(payload)).status == 200
    await harness.settle()
    [post] = harness.fake.called("chat.postMessage")
    assert post.args["thread_ts"] == payload["event"]["ts"]


async def test_payloads_from_unknown_workspaces_are_dropped(harness, conformance) -> None:  # noqa: ANN001
    payload = copy.deepcopy(load("events/event_callback_app_mention.json"))
    payload.update(team_id="T999", enterprise_id="E999")
    payload["event"]["team"] = "T999"
    resp = await harness.event(payload)
    assert resp.status == 200
    await harness.settle()
    assert harness.fake.called("chat.postMessage") == []
    assert await count(harness, Workspace) == 0
    assert await count(harness, ProcessedEvent) == 0


async def test_unknown_events_and_interactions_get_a_clean_answer(harness, conformance) -> None:  # noqa: ANN001
    odd = copy.deepcopy(load("events/event_callback_member_joined_channel.json"))
    odd["event"]["type"] = "reaction_added"
    assert (await harness.event(odd)).status == 200
    shortcut = load("interactivity/shortcut_global.json")
    shortcut["team"]["id"] = "T111"
    assert (await harness.interact(shortcut)).status == 200
    action = copy.deepcopy(load("interactivity/block_actions_static_select.json"))
    action["team"]["id"] = "T111"
    action["response_url"] = harness.fake.hook_url("select")
    assert (await harness.interact(action)).status == 200
    await harness.settle()
    assert "isn't something I know" in harness.fake.hooks[-1]["text"]
    assert await count(harness, Membership) == 0


async def test_match_now_introduces_pairs_in_group_dms(harness, conformance) -> None:  # noqa: ANN001
    """Intros end to end: people join, an admin runs `match now`, the outbox opens group DMs and posts."""
    from storage.tables import Match
    from tests.slack.test_slack_commands import ADMIN, run

    program = await create_program(harness)
    people = ["U301", "U302", "U303", "U304"]
    for person in people:
        await run(harness, "join", user=person)
    hook = await run(harness, "match now", user=ADMIN)
    assert "Matching a new round" in hook["text"]
    await harness.core.dispatch()
    opened = harness.fake.called("conversations.open")
    assert len(opened) == 2
    assert sorted(u for call in opened for u in call.args["users"].split(",")) == people
    groups = {c.args["channel"] for c in harness.fake.called("chat.postMessage") if c.args["channel"].startswith("G")}
    assert len(groups) == 2
    matches = await rows(harness, Match, Match.program_id == program.id)
    assert len(matches) == 2 and {m.conversation_id for m in matches} == groups
    assert [d.state for d in await rows(harness, Delivery)] == ["sent"] * len(await rows(harness, Delivery))
