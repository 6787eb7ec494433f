"""Nothing fails silently on Teams: a passing 500 from the Bot Connector is retried; a lost channel is told."""

from __future__ import annotations

from adapters.teams.config import TeamsConfig
from bot.programs.channel_sync import run_channel_syncs
from storage.tables import Delivery
from tests.teams.teams_harness import Harness
from tests.teams.test_teams_real_core import ALEX_AAD, CHANNEL, _say, card_of, private_cards

ADMIN_CONFIG = TeamsConfig(admin_ids=frozenset({ALEX_AAD}))


async def _program(h: Harness, name: str = "Coffee chats") -> None:
    """Alex (an admin) creates a program on the channel; the team's roster is handed over."""
    alex = h.connector.members[1]
    await _say(h, alex, "program create")
    invoke = h.submit(private_cards(h)[-1], name=name)
    base = h.activity("message_channel_mention")
    invoke.update(
        {
            "from": {"id": alex["id"], "name": alex["name"], "aadObjectId": ALEX_AAD},
            "conversation": base["conversation"],
            "channelData": base["channelData"],
        }
    )
    assert (await h.post(invoke))[0] == 200
    await run_channel_syncs(h.core)  # the channel sync reaches the team's roster (sent on dispatch)


def _texts(card: dict) -> str:
    return " ".join(b.get("text", "") for b in card["body"] if b.get("type") == "TextBlock")


async def test_a_round_with_one_post_in_five_failing_with_a_500_delivers_every_intro(db, tmp_path):
    async with Harness(db, tmp_path, ADMIN_CONFIG, real_core=True) as h:
        await _program(h)
        for member in h.connector.members:
            await _say(h, member, "join")
        await _say(h, h.connector.members[1], "match now")
        h.connector.calls.clear()
        h.connector.fail_every = 5
        await h.core.dispatch()
        assert h.connector.answered_500 >= 1
        intros = [d for d in await h.rows(Delivery) if d.step == "intro"]
        assert intros and {d.state for d in intros} == {"sent"}
        told = {c.segments[2] for c in h.connector.calls_to("POST", "/activities") if c.segments[2].startswith("a:")}
        assert len(told) == 3  # each of the three got their intro in their 1:1 chat


async def test_a_channel_tandem_was_removed_from_is_told_to_the_admin_once(db, tmp_path):
    async with Harness(db, tmp_path, ADMIN_CONFIG, real_core=True) as h:
        await _program(h)
        await _say(h, h.connector.members[1], "icebreaker now")
        h.connector.fail("POST", CHANNEL, 403, '{"error": {"code": "BotNotInConversationRoster"}}', times=5)
        h.connector.calls.clear()
        await h.core.dispatch()
        notices = [
            _texts(card_of(c)) for c in h.connector.calls_to("POST", "/activities") if "delivered" in str(c.body)
        ]
        assert len(notices) == 1
        assert "can't post in" in notices[0] and "Add Tandem back" in notices[0]
        await h.core.dispatch()
        assert len([c for c in h.connector.calls_to("POST", "/activities") if "delivered" in str(c.body)]) == 1


async def test_a_click_that_fails_is_answered_with_an_apology_and_changes_nothing(db, tmp_path):
    from storage.tables import Membership
    from tests.support.refuse import refuse_inserts

    async with Harness(db, tmp_path, ADMIN_CONFIG, real_core=True) as h:
        await _program(h)  # the team's members are invited, each with a Join button
        h.connector.calls.clear()
        await h.core.dispatch()
        jordan = h.connector.members[0]
        welcome = next(card_of(c) for c in h.connector.calls_to("POST", "/activities") if jordan["id"] in c.segments[2])
        join = next(a for b in welcome["body"] if b.get("type") == "ActionSet" for a in b["actions"])
        await refuse_inserts(h.db, "processed_event")  # the database refuses the click's first write
        raw = h.activity("invoke_adaptiveCard_action_execute")
        raw["from"] = {"id": jordan["id"], "name": jordan["name"], "aadObjectId": jordan["objectId"]}
        raw["value"]["action"] = {"type": "Action.Execute", "verb": join["verb"], "data": join["data"]}
        status, body = await h.post(raw)
        assert status == 200
        assert "nothing was changed" in str(body["value"])
        assert {m.status for m in await h.rows(Membership)} == {"invited"}


async def test_a_program_left_unnamed_is_named_after_its_channel_not_its_id(db, tmp_path):
    from storage.tables import Program

    async with Harness(db, tmp_path, ADMIN_CONFIG, real_core=True) as h:
        await _program(h, name="")
        [program] = await h.rows(Program)
        assert program.name == "Peer in #General"  # the team's General channel comes without a name
        assert len(h.connector.calls_to("GET", "/conversations")) >= 1
        h.connector.calls.clear()
        await h.core.dispatch()  # the team's members are invited
        welcomes = [card_of(c) for c in h.connector.calls_to("POST", "/activities")]
        assert welcomes and all("@thread" not in _texts(card) for card in welcomes)
        assert "Peer in #General" in _texts(welcomes[0])


def _execute(card: dict, verb_prefix: str) -> dict | None:
    """The first Action.Execute on a card whose verb (the button's action id) starts ``verb_prefix``."""
    for block in card["body"]:
        for action in block.get("actions", []) if block.get("type") == "ActionSet" else []:
            if action.get("type") == "Action.Execute" and str(action.get("verb", "")).startswith(verb_prefix):
                return action
    return None


async def _click(h: Harness, member: dict, action: dict) -> dict:
    raw = h.activity("invoke_adaptiveCard_action_execute")
    raw["from"] = {"id": member["id"], "name": member["name"], "aadObjectId": member["objectId"]}
    raw["value"]["action"] = {"type": "Action.Execute", "verb": action["verb"], "data": action["data"]}
    tenant = h.activity("message_channel_mention")["channelData"]["tenant"]  # the team's tenant
    raw["channelData"] = {"tenant": tenant}
    chat = f"a:fake-personal-{member['id']}"
    raw["conversation"] = {"id": chat, "conversationType": "personal", "tenantId": tenant["id"]}
    status, body = await h.post(raw)
    assert status == 200, body
    return body


async def test_booking_answers_each_click_once_and_closes_the_finished_buttons(db, tmp_path):
    async with Harness(db, tmp_path, ADMIN_CONFIG, real_core=True) as h:
        await _program(h)
        members = h.connector.members
        for member in members:
            await _say(h, member, "join")
        await _say(h, members[1], "match now")
        h.connector.calls.clear()
        await h.core.dispatch()
        intros = {
            c.segments[2]: card_of(c)
            for c in h.connector.calls_to("POST", "/activities")
            if _execute(card_of(c), "book:propose")
        }
        matched = [m for m in members if any(m["id"] in chat for chat in intros)]
        assert len(matched) >= 2
        proposer, others = matched[0], matched[1:]
        propose = _execute(next(card for chat, card in intros.items() if proposer["id"] in chat), "book:propose")
        h.connector.calls.clear()
        answer = await _click(h, proposer, propose)
        assert answer["type"] == "application/vnd.microsoft.activity.message" and "You proposed" in answer["value"]
        assert not h.connector.calls_to("POST", "/activities")  # the answer is on the card, not a second card
        await h.core.dispatch()
        proposals = {c.segments[2]: card_of(c) for c in h.connector.calls_to("POST", "/activities")}
        assert len(proposals) == len(others)  # the proposer is not asked to accept their own proposal
        assert not any(proposer["id"] in chat for chat in proposals)
        for person in others:
            card = next(card for chat, card in proposals.items() if person["id"] in chat)
            await _click(h, person, _execute(card, "book:accept"))
        h.connector.calls.clear()
        await h.core.dispatch()
        updates = h.connector.calls_to("PUT", "/activities/")
        assert len(updates) == len(intros) + len(proposals)  # every intro and proposal card, closed
        for update in updates:
            card = update.body["attachments"][0]["content"]
            assert _execute(card, "book:") is None and "buttons are closed" in _texts(card)
