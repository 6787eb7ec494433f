"""The adapter with the real core: commands typed in Teams change Tandem's state end to end."""

from __future__ import annotations

import pytest
from teams_harness import SKIP_REASON, Harness, conformance_missing

from adapters.teams.config import TeamsConfig
from storage.tables import Program

pytestmark = pytest.mark.skipif(conformance_missing(), reason=SKIP_REASON)

ALEX_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


def card_of(call) -> dict:
    return call.body["attachments"][0]["content"]


async def test_help_in_a_personal_chat(tmp_path):
    async with Harness(tmp_path, real_core=True) as h:
        status, _ = await h.post(h.activity("message_personal", text="help"))
        assert status == 201
        [reply] = h.connector.calls_to("POST", "/activities/")
        text = " ".join(b.get("text", "") for b in card_of(reply)["body"])
        assert "Tandem helps you meet people" in text


async def test_admin_creates_a_program_from_a_channel_with_the_form_card(tmp_path):
    async with Harness(tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> program create"
        assert (await h.post(raw))[0] == 201
        [reply] = h.connector.calls_to("POST", "/activities/")
        form = card_of(reply)
        assert form["actions"][0]["verb"] == "form:program_create"
        channel_input = next(e for e in form["body"] if e.get("id") == "channel")
        assert channel_input["value"] == CHANNEL  # the form is pre-filled with the channel it was typed in

        invoke = h.submit(form, fixture="invoke_adaptiveCard_action_execute", name="Coffee chats")
        invoke["from"] = raw["from"]
        invoke["conversation"] = raw["conversation"]
        invoke["channelData"] = raw["channelData"]
        status, body = await h.post(invoke)
        assert status == 200, body
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        [program] = await h.rows(Program)
        assert program.name == "Coffee chats" and program.channel_id == CHANNEL


async def test_non_admin_is_refused_program_create(tmp_path):
    async with Harness(tmp_path, real_core=True) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> program create"
        assert (await h.post(raw))[0] == 201
        [reply] = h.connector.calls_to("POST", "/activities/")
        assert "actions" not in card_of(reply)
        assert await h.count(Program) == 0
