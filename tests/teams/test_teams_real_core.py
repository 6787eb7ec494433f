"""The adapter with the real core: commands typed in Teams change Tandem's state end to end."""

from __future__ import annotations

from adapters.teams.config import TeamsConfig
from storage.tables import Program
from tests.teams.teams_harness import Harness

ALEX_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"


def card_of(call) -> dict:
    return call.body["attachments"][0]["content"]


def private_cards(h: Harness) -> list[dict]:
    """Cards sent to people's 1:1 chats (Teams' stand-in for ephemeral answers in channels)."""
    return [card_of(c) for c in h.connector.calls_to("POST", "/activities") if c.segments[2].startswith("a:")]


def thread_texts(h: Harness) -> list[str]:
    return [
        b["text"]
        for c in h.connector.calls_to("POST", "/activities/")
        if c.segments[2].startswith("19:")
        for b in card_of(c)["body"]
        if b.get("type") == "TextBlock"
    ]


async def test_help_in_a_personal_chat(db, tmp_path):
    async with Harness(db, tmp_path, real_core=True) as h:
        status, _ = await h.post(h.activity("message_personal", text="help"))
        assert status == 201
        [reply] = h.connector.calls_to("POST", "/activities/")
        text = " ".join(b.get("text", "") for b in card_of(reply)["body"])
        assert "Tandem helps you meet people" in text


async def test_admin_creates_a_program_from_a_channel_with_the_form_card(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> program create"
        assert (await h.post(raw))[0] == 201
        [form] = private_cards(h)  # forms carry the person's data: sent 1:1, with a pointer in the thread
        assert thread_texts(h) == ["📬 I've answered you in our 1:1 chat."]
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


async def test_non_admin_is_refused_program_create(db, tmp_path):
    async with Harness(db, tmp_path, real_core=True) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> program create"
        assert (await h.post(raw))[0] == 201
        [refusal] = private_cards(h)
        assert "actions" not in refusal and "only program admins" in refusal["body"][0]["text"]
        assert await h.count(Program) == 0


async def _say(h: Harness, member: dict, text: str) -> None:
    raw = h.activity("message_channel_mention")
    raw["text"] = f"<at>My Combined</at> {text}"
    raw["from"] = {"id": member["id"], "name": member["name"], "aadObjectId": member["objectId"]}
    assert (await h.post(raw))[0] == 201


async def test_intros_reach_each_member_1to1_with_a_group_chat_link(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        jordan, alex, sam = h.connector.members
        await _say(h, alex, "program create")
        form = private_cards(h)[-1]
        invoke = h.submit(form, name="Coffee chats")
        base = h.activity("message_channel_mention")
        invoke.update(
            {
                "from": {"id": alex["id"], "name": alex["name"], "aadObjectId": ALEX_AAD},
                "conversation": base["conversation"],
                "channelData": base["channelData"],
            }
        )
        assert (await h.post(invoke))[0] == 200
        await h.core.tick()  # the channel sync reaches the team's roster first
        for member in (jordan, alex, sam):
            await _say(h, member, "join")
        await _say(h, alex, "match now")
        h.connector.calls.clear()
        sent = await h.core.dispatch()
        assert sent >= 2
        intro_calls = [c for c in h.connector.calls_to("POST", "/activities") if c.segments[2].startswith("a:")]
        assert len({c.segments[2] for c in intro_calls}) >= 2  # each person in their own 1:1 chat
        intros = [card_of(c) for c in intro_calls]
        links = [
            a["url"]
            for card in intros
            for block in card["body"]
            if block.get("type") == "ActionSet"
            for a in block["actions"]
            if a["type"] == "Action.OpenUrl"
        ]
        assert links and all(link.startswith("https://teams.microsoft.com/l/chat/0/0?users=") for link in links)
        assert any("contoso.example" in link for link in links)


async def test_creating_a_program_enrols_the_existing_team_through_the_roster(db, tmp_path):
    from storage.tables import Delivery, Membership

    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        jordan, alex, sam = h.connector.members
        await _say(h, alex, "program create")
        form = private_cards(h)[-1]
        invoke = h.submit(form, name="Coffee chats")
        base = h.activity("message_channel_mention")
        invoke.update(
            {
                "from": {"id": alex["id"], "name": alex["name"], "aadObjectId": ALEX_AAD},
                "conversation": base["conversation"],
                "channelData": base["channelData"],
            }
        )
        assert (await h.post(invoke))[0] == 200
        await h.core.tick()
        assert h.connector.calls_to("GET", "/pagedmembers")
        memberships = await h.rows(Membership)
        assert len(memberships) == 3 and {m.status for m in memberships} == {"invited"}  # opt-in: asked first
        invitations = [d for d in await h.rows(Delivery) if d.step == "channel_sync"]
        assert len(invitations) == 3


async def test_bare_mention_in_a_channel_gets_help(db, tmp_path):
    async with Harness(db, tmp_path, real_core=True) as h:
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at>"
        assert (await h.post(raw))[0] == 201
        [help_card] = private_cards(h)
        assert "Tandem helps you meet people" in " ".join(b.get("text", "") for b in help_card["body"])
