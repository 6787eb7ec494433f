"""SlackPort against the fake Web API: group intros, errors → SendError, 429/5xx/timeouts, files, chunking."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlmodel import select

from adapters.slack.clients import SlackClients
from adapters.slack.group_dms import GroupDMs
from adapters.slack.http import SLACK_ADAPTER, mount
from adapters.slack.port import SlackPort
from adapters.slack.respond import Origin, deliver
from bot.core import Tandem
from bot.delivery.outbox import Outgoing, enqueue, to_group
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import Reply, SentRef
from bot.kernel.messages import FileAttachment, Message, Section, Text, text_message
from bot.kernel.port import ChatPort, SendError
from storage.tables import Delivery, Workspace
from tests.slack.slack_harness import slack_config


@pytest.fixture
async def port(fake):  # noqa: ANN001, ANN201
    clients = SlackClients(slack_config(fake, http_timeout=0.5, retry_backoff=0.01))
    yield SlackPort(clients)
    await clients.close()


async def test_group_dms_are_remembered_across_a_restart_and_forgotten_when_gone(database, fake) -> None:  # noqa: ANN001
    clients = SlackClients(slack_config(fake, http_timeout=0.5, retry_backoff=0.01))
    try:
        await SlackPort(clients, group_dms=GroupDMs(database)).send_to_group(
            "T111", ["U2", "U1"], text_message("Meet!")
        )
        restarted = SlackPort(clients, group_dms=GroupDMs(database))
        ref = await restarted.send_to_group("T111", ["U1", "U2"], text_message("Week 2"))
        assert len(fake.called("conversations.open")) == 1, "the second process found the group DM"
        assert fake.called("chat.postMessage")[-1].args["channel"] == ref.conversation_id
        fake.fail_next("chat.postMessage", "is_archived")
        with pytest.raises(SendError):
            await restarted.send_to_group("T111", ["U1", "U2"], text_message("Week 3"))
        await SlackPort(clients, group_dms=GroupDMs(database)).send_to_group(
            "T111", ["U1", "U2"], text_message("Week 3")
        )
        assert len(fake.called("conversations.open")) == 2, "an archived group DM is opened afresh"
    finally:
        await clients.close()


async def test_is_a_chat_port(port) -> None:  # noqa: ANN001
    assert isinstance(port, ChatPort)


async def test_group_intro_opens_a_group_dm_and_posts_there(port, fake) -> None:  # noqa: ANN001
    ref = await port.send_to_group("T111", ["U2", "U1"], text_message("Meet each other!"))
    [opened] = fake.called("conversations.open")
    assert opened.args["users"] == "U2,U1"
    [post] = fake.called("chat.postMessage")
    assert post.args["channel"] == ref.conversation_id and ref.conversation_id.startswith("G")
    assert ref.message_id == "1700000000.000001"
    assert post.token == "xoxb-test-token"
    again = await port.send_to_group("T111", ["U1", "U2"], text_message("Week 2"))
    assert again.conversation_id == ref.conversation_id
    assert len(fake.called("conversations.open")) == 1  # same people, same group DM: no second open


async def test_dm_update_and_thread(port, fake) -> None:  # noqa: ANN001
    ref = await port.send_to_user("T111", "U9", text_message("hi"))
    assert ref.conversation_id == "D9"
    await port.update_message("T111", ref, text_message("edited"))
    [update] = fake.called("chat.update")
    assert update.args["ts"] == ref.message_id and update.args["text"] == "edited"
    await port.post_to_channel("T111", "C1", text_message("answer"), thread_id="123.456")
    assert fake.called("chat.postMessage")[-1].args["thread_ts"] == "123.456"


@pytest.mark.parametrize(
    "code,gone,retryable",
    [
        ("channel_not_found", True, False),
        ("account_inactive", True, False),
        ("user_not_found", True, False),
        ("not_in_channel", True, False),
        ("is_archived", True, False),
        ("invalid_auth", False, False),
        ("not_authed", False, False),
        ("too_many_attachments", False, False),
        ("internal_error", False, True),
    ],
)
async def test_api_errors_map_to_send_error(port, fake, code: str, gone: bool, retryable: bool) -> None:  # noqa: ANN001
    fake.fail_next("chat.postMessage", code)
    with pytest.raises(SendError) as err:
        await port.send_to_user("T111", "U1", text_message("hi"))
    assert (err.value.gone, err.value.retryable) == (gone, retryable)


async def test_outbound_429_is_handed_back_with_retry_after(port, fake) -> None:  # noqa: ANN001
    fake.fail_next("chat.postMessage", "429", retry_after=7)
    with pytest.raises(SendError) as err:
        await port.send_to_user("T111", "U1", text_message("hi"))
    assert err.value.retryable and err.value.retry_after == 7.0
    assert len(fake.called("chat.postMessage")) == 1  # not hammered


async def test_interactive_calls_wait_out_a_429_then_succeed(port, fake) -> None:  # noqa: ANN001
    fake.fail_next("views.publish", "429", retry_after=0)
    await port.publish_home("T111", "U1", {"type": "home", "blocks": []})
    assert len(fake.called("views.publish")) == 2


async def test_server_errors_and_timeouts_are_retried(port, fake) -> None:  # noqa: ANN001
    fake.fail_next("chat.postMessage", "500")
    ref = await port.send_to_user("T111", "U1", text_message("hi"))
    assert ref.message_id and len(fake.called("chat.postMessage")) == 2
    fake.fail_next("conversations.open", "hang")
    ref = await port.send_to_group("T111", ["U1", "U2", "U3"], text_message("hi"))
    assert ref.conversation_id.startswith("G") and len(fake.called("conversations.open")) == 2


async def test_persistent_server_errors_become_retryable_send_errors(port, fake) -> None:  # noqa: ANN001
    fake.fail_next("chat.postMessage", "500", times=3)
    with pytest.raises(SendError) as err:
        await port.send_to_user("T111", "U1", text_message("hi"))
    assert err.value.retryable and not err.value.gone


async def test_files_are_uploaded_with_files_upload_v2(port, fake) -> None:  # noqa: ANN001
    ics = FileAttachment(
        filename="chat.ics",
        mime_type="text/calendar",
        content_b64=base64.b64encode(b"BEGIN:VCALENDAR").decode(),
        title="Invite",
    )
    await port.send_to_user("T111", "U1", Message(summary="Invite", files=(ics,)))
    assert fake.called("files.getUploadURLExternal") and fake.called("upload")
    [done] = fake.called("files.completeUploadExternal")
    assert done.args["channel_id"] == "D1"


async def test_long_messages_are_split_not_rejected(port, fake) -> None:  # noqa: ANN001
    blocks = tuple(Section(text=Text.of(f"line {i}")) for i in range(120))
    ref = await port.send_to_user("T111", "U1", Message(summary="long", blocks=blocks))
    posts = fake.called("chat.postMessage")
    assert [len(p.args["blocks"]) for p in posts] == [50, 50, 20]
    assert ref == SentRef(conversation_id="D1", message_id="1700000000.000001")


async def test_a_retried_long_message_does_not_repeat_the_parts_already_posted(port, fake) -> None:  # noqa: ANN001
    blocks = tuple(Section(text=Text.of(f"line {i}")) for i in range(120))
    ics = FileAttachment(
        filename="chat.ics",
        mime_type="text/calendar",
        content_b64=base64.b64encode(b"BEGIN:VCALENDAR").decode(),
        title="Invite",
    )
    message = Message(summary="long", blocks=blocks, files=(ics,))
    fake.fail_next("chat.postMessage", "channel_not_found", after=1)
    with pytest.raises(SendError):
        await port.send_to_user("T111", "U1", message)
    fake.fail_next("files.getUploadURLExternal", "internal_error")
    with pytest.raises(SendError):
        await port.send_to_user("T111", "U1", message)
    ref = await port.send_to_user("T111", "U1", message)
    posts = [p for p in fake.called("chat.postMessage") if p.args["blocks"]]
    firsts = [p for p in posts if p.args["blocks"][0]["text"]["text"] == "line 0"]
    assert len(firsts) == 1, "the first part went out once"
    assert [len(p.args["blocks"]) for p in posts] == [50, 50, 50, 20], "part 2 tried twice (it failed once)"
    assert ref.message_id == "1700000000.000001", "the message is known by its first post"
    assert len(fake.called("files.completeUploadExternal")) == 1
    again = await port.send_to_user("T111", "U1", message)
    assert again.message_id != ref.message_id, "a new send of the same message after success is a new message"


async def test_a_429_in_a_round_is_retried_by_the_outbox_after_retry_after(database, fake) -> None:  # noqa: ANN001
    """429 then success, through the core's durable outbox: nothing lost, nothing sent twice."""
    clock = SimulatedClock(start=datetime(2026, 11, 23, 9, tzinfo=UTC))
    core = Tandem(database, clock=clock)
    app = web.Application()
    mount(app, core, slack_config(fake))
    async with core.db.transaction() as s:
        ws = Workspace(platform="slack", external_id="T111", name="Test")
        s.add(ws)
        await s.flush()
        await enqueue(
            s,
            ws.id,
            [Outgoing(key="intro:1", step="intro", target=to_group(["U1", "U2"]), message=text_message("Meet!"))],
            clock.now(),
        )
    fake.fail_next("chat.postMessage", "429", retry_after=30)
    assert await core.dispatch() == 0
    async with core.db.session() as s:
        [d] = (await s.exec(select(Delivery))).all()
    assert d.state == "pending" and "rate limited" in (d.last_error or "")
    assert d.next_attempt_at >= clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=10))
    assert await core.dispatch() == 0  # too early: Retry-After is honoured
    clock.advance(timedelta(minutes=5))
    assert await core.dispatch() == 1
    async with core.db.session() as s:
        [d] = (await s.exec(select(Delivery))).all()
    assert d.state == "sent" and d.conversation_id.startswith("G") and d.platform_message_id
    assert len([c for c in fake.called("chat.postMessage") if c.args.get("text") == "Meet!"]) == 2
    await app[SLACK_ADAPTER].close()


async def test_top_replies_ranks_human_answers_by_reactions(port, fake) -> None:  # noqa: ANN001
    fake.thread_replies["111.000"] = [
        {"ts": "111.000", "user": "UBOT", "bot_id": "B1", "text": "Icebreaker: mountains or beaches?"},
        {"ts": "111.001", "user": "U1", "text": "Mountains!", "reactions": [{"name": "+1", "count": 2}]},
        {
            "ts": "111.002",
            "user": "U2",
            "text": "Beaches",
            "reactions": [{"name": "+1", "count": 3}, {"name": "ocean", "count": 2}],
        },
        {"ts": "111.003", "bot_id": "B1", "text": "bot chatter", "reactions": [{"name": "x", "count": 9}]},
        {"ts": "111.004", "user": "U3", "text": "Both", "subtype": "thread_broadcast"},
        {"ts": "111.005", "user": "U4", "text": "Lakes"},
    ]
    best = await port.top_replies("T111", "C1", "111.000", 2)
    assert [(r.user_id, r.text, r.reactions) for r in best] == [("U2", "Beaches", 5), ("U1", "Mountains!", 2)]
    assert best[0].permalink and "p111.002" in best[0].permalink
    [call] = fake.called("conversations.replies")
    assert call.args["channel"] == "C1" and call.args["ts"] == "111.000"


async def test_imported_emails_resolve_with_users_lookup_by_email(port, fake) -> None:  # noqa: ANN001
    fake.emails["ana@example.com"] = "U77"
    found = await port.lookup_user_by_email("T111", "ana@example.com")
    assert found is not None and found.user_id == "U77" and found.timezone == "Europe/Berlin"
    assert await port.lookup_user_by_email("T111", "nobody@example.com") is None
    assert [c.args["email"] for c in fake.called("users.lookupByEmail")] == ["ana@example.com", "nobody@example.com"]


async def test_a_long_answer_continues_on_the_response_url_and_in_ephemeral_messages(port, fake) -> None:  # noqa: ANN001
    long = Message(summary="**All** of it", blocks=tuple(Section(text=Text.of(f"line {n}")) for n in range(120)))
    await deliver(port, Origin("T111", "U1", channel_id="C1", response_url=fake.hook_url("long")), Reply(message=long))
    hooks = [h for h in fake.hooks if h["path"] == "long"]
    assert [len(h["blocks"]) for h in hooks] == [50, 50, 20]  # nothing cut off
    assert all(h["response_type"] == "ephemeral" and h["text"] == "All of it" for h in hooks)

    await port.post_ephemeral("T111", "C1", "U1", long)
    assert [len(c.args["blocks"]) for c in fake.called("chat.postEphemeral")] == [50, 50, 20]

    huge = Message(summary="s", blocks=tuple(Section(text=Text.of(f"line {n}")) for n in range(400)))
    await deliver(port, Origin("T111", "U1", channel_id="C1", response_url=fake.hook_url("huge")), Reply(message=huge))
    hooks = [h for h in fake.hooks if h["path"] == "huge"]
    assert len(hooks) == 5 and "too long for Slack" in str(hooks[-1]["blocks"][-1])  # Slack's 5 answers, and said so
