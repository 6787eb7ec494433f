"""Typed commands: 1:1 messages and channel @mentions reach the core; replies go back as cards."""

from __future__ import annotations

import json

from bot.kernel.events import CommandEvent, DirectMessageEvent, OpenForm, Reply
from bot.kernel.messages import Form, TextInput, text_message
from storage.tables import ConversationAddress, ProcessedEvent, User
from tests.teams.teams_harness import Harness

PERSONAL_USER = "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q"


async def test_personal_message_reaches_core_and_reply_is_sent_as_card(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        h.core.answer = lambda event: Reply(message=text_message(f"You said {event.text}"))
        raw = h.activity("message_personal", text="help")
        status, _ = await h.post(raw)
        assert status == 201
        [event] = h.core.events
        assert isinstance(event, DirectMessageEvent)
        assert event.text == "help"
        assert event.place.is_direct
        assert event.actor.platform == "teams"
        assert event.actor.workspace_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"
        assert event.actor.user_id == PERSONAL_USER
        # the reply is posted to the same conversation, as a reply to the incoming message
        [reply] = h.connector.calls_to("POST", "/activities/")
        assert reply.segments[2] == raw["conversation"]["id"] and reply.segments[4] == raw["id"]
        card = reply.body["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["version"] == "1.5"
        assert "You said help" in card["content"]["body"][0]["text"]
        [address] = await h.rows(ConversationAddress)
        assert address.scope == "personal" and address.conversation_id == raw["conversation"]["id"]


async def test_channel_mention_is_stripped_and_becomes_a_command(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> status\n"
        status, _ = await h.post(raw)
        assert status == 201
        [event] = h.core.events
        assert isinstance(event, CommandEvent)
        assert event.text == "status"
        assert event.place.channel_id == "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
        assert event.place.thread_id == "1571537152320"
        [address] = await h.rows(ConversationAddress)
        assert address.scope == "channel"
        assert address.conversation_id == "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


async def test_thread_reply_2025_carries_client_timezone(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        status, _ = await h.post(h.activity("message_channel_reply_in_thread_2025"))
        assert status == 201
        [event] = h.core.events
        assert event.text == "reply to thread"
        assert event.actor.timezone == "America/Los_Angeles"
        [user] = await h.rows(User)
        assert user.timezone == "America/Los_Angeles"


async def test_member_lookup_fills_upn_and_admin_from_env_list(db, tmp_path):
    from adapters.teams.config import TeamsConfig

    alex = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({alex.upper()}))) as h:
        status, _ = await h.post(h.activity("message_channel_mention"))
        assert status == 201
        [event] = h.core.events
        assert event.actor.is_platform_admin is True
        assert event.actor.email == "alexr@contoso.example"  # the UPN, which Teams deep links need
        # a second message from the same person uses the cached look-up
        await h.post(h.activity("message_channel_mention"))
        assert len(h.connector.calls_to("GET", "/members/")) == 1


async def test_redelivered_message_is_handled_once(db, tmp_path):
    async with Harness(db, tmp_path, real_core=True) as h:
        raw = h.activity("message_personal", text="help")
        assert (await h.post(raw))[0] == 201
        assert (await h.post(raw))[0] == 201
        assert len(h.connector.calls_to("POST", "/activities/")) == 1  # the core answered the repeat with NoReply
        assert await h.count(ProcessedEvent) == 1


async def test_command_answered_with_a_form_sends_an_input_card(db, tmp_path):
    form = Form(form_id="profile", title="Your profile", fields=(TextInput(field_id="bio", label="About you"),))
    async with Harness(db, tmp_path) as h:
        h.core.answer = lambda event: OpenForm(form=form)
        await h.post(h.activity("message_personal", text="profile"))
        [reply] = h.connector.calls_to("POST", "/activities/")
        card = reply.body["attachments"][0]["content"]
        assert card["body"][1]["type"] == "Input.Text" and card["body"][1]["id"] == "bio"
        assert card["actions"][0]["type"] == "Action.Execute" and card["actions"][0]["verb"] == "form:profile"


async def test_core_failure_answers_sorry_not_500(db, tmp_path):
    async with Harness(db, tmp_path) as h:

        def boom(event):
            raise RuntimeError("core bug")

        h.core.answer = boom
        status, _ = await h.post(h.activity("message_personal"))
        assert status == 201
        [reply] = h.connector.calls_to("POST", "/activities/")
        assert "Sorry" in reply.body["attachments"][0]["content"]["body"][0]["text"]


async def test_bot_framework_emulator_activity_without_tenant_is_accepted(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("message_personal", channelId="emulator", text="status")
        raw.pop("channelData")
        raw["conversation"].pop("tenantId")
        status, _ = await h.post(raw)
        assert status == 201
        [event] = h.core.events
        assert event.actor.workspace_id == "emulator" and event.text == "status"


async def test_private_answer_in_a_channel_goes_1to1_and_public_one_stays_in_thread(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await h.post(h.activity("message_personal"))  # the tenant is known; Alex has no 1:1 chat yet
        h.connector.calls.clear()
        h.core.answer = lambda event: Reply(message=text_message("Your match is Sam"), ephemeral=True)
        await h.post(h.activity("message_channel_mention"))
        create = h.connector.calls_to("POST", "v3/conversations")[0]
        assert create.path == "v3/conversations"  # the 1:1 chat is opened for the private answer
        private = [c for c in h.connector.calls_to("POST", "/activities") if c.segments[2].startswith("a:")]
        assert private[0].body["attachments"][0]["content"]["body"][0]["text"] == "Your match is Sam"
        thread = [c for c in h.connector.calls_to("POST", "/activities/") if c.segments[2].startswith("19:")]
        assert "1:1 chat" in thread[0].body["attachments"][0]["content"]["body"][0]["text"]

        h.connector.calls.clear()
        h.core.answer = lambda event: Reply(message=text_message("Icebreaker posted"), ephemeral=False)
        await h.post(h.activity("message_channel_mention"))
        [reply] = h.connector.calls
        assert reply.segments[2].startswith("19:") and "Icebreaker posted" in json.dumps(reply.body)


async def test_private_answer_falls_back_to_a_hint_when_the_user_blocked_the_bot(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await h.post(h.activity("message_personal"))
        h.connector.calls.clear()
        h.core.answer = lambda event: Reply(message=text_message("secret"), ephemeral=True)
        h.connector.fail("POST", "a:fake-personal", 403, '{"errorCode":209,"message":"{}"}')
        assert (await h.post(h.activity("message_channel_mention")))[0] == 201
        thread = [c for c in h.connector.calls_to("POST", "/activities/") if c.segments[2].startswith("19:")]
        assert "couldn't message you privately" in json.dumps(thread[0].body)
        assert "secret" not in json.dumps(thread[0].body)
