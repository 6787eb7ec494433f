"""TeamsPort: proactive sends over stored references, retries, pacing and 'gone' conversations."""

from __future__ import annotations

import pytest

from bot.kernel.events import SentRef
from bot.kernel.messages import Actions, GroupChatButton, Message, Section, Text, text_message
from bot.kernel.port import ChatPort, SendError
from storage.tables import ConversationAddress
from tests.teams.fake_connector import blocked_403_body
from tests.teams.teams_harness import Harness

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SAM = "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


async def _personal(h: Harness) -> str:
    """Sam messages the bot once, so a personal reference is stored; returns the conversation id."""
    raw = h.activity("message_personal")
    assert (await h.post(raw))[0] == 201
    h.connector.calls.clear()
    return raw["conversation"]["id"]


async def test_port_implements_the_core_contract(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert isinstance(h.runtime.port, ChatPort)
        assert h.runtime.port.capabilities.group_conversations is False
        assert h.core.port("teams") is h.runtime.port


async def test_send_to_user_uses_the_stored_reference(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        conversation = await _personal(h)
        ref = await h.runtime.port.send_to_user(TENANT, SAM, text_message("Your intro is ready"))
        [call] = h.connector.calls
        assert (call.method, call.segments) == ("POST", ["v3", "conversations", conversation, "activities"])
        assert call.body["attachments"][0]["content"]["body"][0]["text"] == "Your intro is ready"
        assert ref == SentRef(conversation_id=conversation, message_id=call and ref.message_id)
        assert ref.message_id.startswith("1:act-")


async def test_send_to_user_without_reference_creates_the_1to1_chat_and_stores_it(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)  # the tenant is known (service URL, bot id); Jordan never wrote to the bot
        jordan = h.connector.members[0]["id"]
        ref = await h.runtime.port.send_to_user(TENANT, jordan, text_message("Hi Jordan"))
        create, send = h.connector.calls
        assert (create.method, create.path) == ("POST", "v3/conversations")
        assert create.body["members"] == [{"id": jordan}]
        # Teams reads the tenant from channelData; botbuilder also sends its own "tenantID" key
        assert create.body["channelData"] == {"tenant": {"id": TENANT}} and create.body["tenantID"] == TENANT
        assert create.body["bot"]["id"] == "28:cd59cf47-aca1-41e0-8441-387faee8331e"
        assert send.segments[2] == ref.conversation_id == f"a:fake-personal-{jordan}"
        addresses = {a.conversation_id: a for a in await h.rows(ConversationAddress)}
        assert addresses[ref.conversation_id].scope == "personal"
        # the next message reuses the stored reference: no second create
        h.connector.calls.clear()
        await h.runtime.port.send_to_user(TENANT, jordan, text_message("again"))
        assert [c.path for c in h.connector.calls] == [f"v3/conversations/{ref.conversation_id}/activities"]


async def test_unknown_tenant_is_a_permanent_error(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        with pytest.raises(SendError) as info:
            await h.runtime.port.send_to_user("no-such-tenant", "29:x", text_message("hi"))
        assert not info.value.retryable and not info.value.gone


async def test_403_message_writes_blocked_marks_the_address_gone(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 403, blocked_403_body())
        with pytest.raises(SendError) as info:
            await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert info.value.gone and not info.value.retryable
        assert "MessageWritesBlocked" in str(info.value)
        [address] = await h.rows(ConversationAddress)
        assert address.gone is True
        # later sends fail fast without calling Teams
        h.connector.calls.clear()
        with pytest.raises(SendError) as again:
            await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert again.value.gone and h.connector.calls == []
        # when the person writes to the bot again, the address comes back
        await _personal(h)
        [address] = await h.rows(ConversationAddress)
        assert address.gone is False


async def test_429_is_retried_with_backoff_then_succeeds(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 429, "", times=2)
        ref = await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert ref.message_id
        assert len(h.connector.calls_to("POST", "/activities")) == 3
        backoffs = [s for s in h.time.sleeps if s >= 0.5]
        assert len(backoffs) == 2  # fake time: no real waiting


async def test_502_and_retry_after_are_honoured(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 502, "", times=1)
        h.connector.fail("POST", "/activities", 429, "", times=1, headers={"Retry-After": "20"})
        await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert len(h.connector.calls_to("POST", "/activities")) == 3
        assert max(h.time.sleeps) >= 20


async def test_429_that_never_ends_is_a_retryable_send_error(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 429, "", times=100)
        with pytest.raises(SendError) as info:
            await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert info.value.retryable and not info.value.gone
        assert len(h.connector.calls_to("POST", "/activities")) == h.runtime.port.attempts
        [address] = await h.rows(ConversationAddress)
        assert address.gone is False


async def test_400_is_permanent_and_not_retried(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 400, '{"error":{"code":"BadArgument","message":"card too big"}}')
        with pytest.raises(SendError) as info:
            await h.runtime.port.send_to_user(TENANT, SAM, text_message("hi"))
        assert not info.value.retryable and not info.value.gone
        assert len(h.connector.calls_to("POST", "/activities")) == 1


async def test_pacing_keeps_a_conversation_within_seven_per_second(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        for n in range(9):
            await h.runtime.port.send_to_user(TENANT, SAM, text_message(f"msg {n}"))
        assert len(h.connector.calls) == 9
        assert h.time.sleeps, "the 8th send in the same second has to wait"


async def test_post_to_channel_update_message_and_thread_reply(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("message_channel_mention")))[0] == 201
        h.connector.calls.clear()
        port = h.runtime.port
        ref = await port.post_to_channel(TENANT, CHANNEL, text_message("This week's icebreaker"))
        assert h.connector.calls[-1].segments[2] == CHANNEL
        await port.post_to_channel(TENANT, CHANNEL, text_message("an answer"), thread_id=ref.message_id)
        assert h.connector.calls[-1].segments[2] == f"{CHANNEL};messageid={ref.message_id}"
        await port.update_message(TENANT, ref, text_message("edited"))
        put = h.connector.calls[-1]
        assert put.method == "PUT" and put.segments[2:] == [CHANNEL, "activities", ref.message_id]
        assert put.body["attachments"][0]["content"]["body"][0]["text"] == "edited"


async def test_send_to_group_sends_each_member_a_1to1_card_with_the_group_chat_link(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        people = [m["id"] for m in h.connector.members]
        message = Message(
            summary="Meet your group",
            blocks=(
                Section(text=Text.of("You three should meet.")),
                Actions(
                    elements=(
                        GroupChatButton(
                            label="Open group chat",
                            user_ids=tuple(people),
                            emails=("a@contoso.example", "b@contoso.example"),
                            topic="Coffee: A & B",
                        ),
                    )
                ),
            ),
        )
        ref = await h.runtime.port.send_to_group(TENANT, people, message)
        sends = h.connector.calls_to("POST", "/activities")
        assert len(sends) == 3
        assert ref.conversation_id == sends[0].segments[2]
        button = sends[0].body["attachments"][0]["content"]["body"][1]["actions"][0]
        assert button["type"] == "Action.OpenUrl"
        assert button["url"] == (
            "https://teams.microsoft.com/l/chat/0/0?users=a@contoso.example,b@contoso.example"
            "&topicName=Coffee%3A%20A%20%26%20B"
        )


async def test_send_to_group_fails_only_when_nobody_is_reached(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 403, blocked_403_body(), times=1)
        with pytest.raises(SendError):
            await h.runtime.port.send_to_group(TENANT, [SAM], text_message("hi"))


async def test_a_long_message_goes_out_in_several_cards_and_a_retry_does_not_repeat_them(db, tmp_path):
    long = Message(summary="All **programs**", blocks=(Section(text=Text.of("word " * 12_000)),))
    async with Harness(db, tmp_path) as h:
        await _personal(h)
        h.connector.fail("POST", "/activities", 400, '{"error":{"code":"BadArgument"}}', after=1)
        with pytest.raises(SendError):
            await h.runtime.port.send_to_user(TENANT, SAM, long)
        ref = await h.runtime.port.send_to_user(TENANT, SAM, long)  # the outbox's retry
        posts = [c for c in h.connector.calls_to("POST", "/activities") if c.body.get("attachments")]
        assert len(posts) == 4  # card 1, card 2 refused, then card 2 and 3: card 1 is not repeated
        texts = [p.body["attachments"][0]["content"]["body"] for p in posts]
        assert texts[1] == texts[2] and texts[0] != texts[1]
        assert sum(b["text"].count("word") for body in (texts[0], texts[2], texts[3]) for b in body) == 12_000
        assert all(p.body["summary"] == "All programs" for p in posts)
        assert ref.message_id.startswith("1:act-")  # the first card stands for the message
