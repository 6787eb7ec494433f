"""The day's digest through the real Teams adapter: held overnight, sent as one card with every part's
actions, and an Action.Execute on one part answers with the whole card, only that part replaced.
"""

from __future__ import annotations

from datetime import date, time

from sqlmodel import select

from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.clock import SimulatedClock
from bot.kernel.messages import Actions, Message, Section, Text, text_message
from bot.kernel.timeutil import local_dt
from bot.programs.buttons import JOIN, ProgramRef
from storage.tables import Delivery, Program, User, Workspace
from tests.teams.teams_harness import Harness

SAM = "29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbEJ_Og1syGOt68MsLId1Q"
MONDAY = date(2026, 11, 23)


def _texts(card: dict) -> str:
    return " ".join(str(b.get("text", "")) for b in card["body"])


async def test_a_nights_messages_arrive_as_one_teams_card_whose_parts_stay_clickable(db, tmp_path) -> None:  # noqa: ANN001
    async with Harness(db, tmp_path, real_core=True) as h:
        hello = h.activity("message_personal", text="help")
        assert (await h.post(hello))[0] == 201  # Sam writes once: workspace, person and 1:1 chat are known
        async with h.core.db.transaction() as s:
            ws = (await s.exec(select(Workspace))).one()
            sam = (await s.exec(select(User).where(User.platform_user_id == SAM))).one()
            program = Program(workspace_id=ws.id or 0, name="Coffee chats", channel_id="19:x", kind="peer")
            s.add(program)
            await s.flush()
            invite = Message(
                summary="Join Coffee chats?",
                blocks=(
                    Section(text=Text.of("Join Coffee chats?")),
                    Actions(elements=(JOIN.button("Join", ProgramRef(program.id or 0)),)),
                ),
            )
            clock = SimulatedClock(local_dt(MONDAY, time(22, 0), sam.timezone))
            h.core.clock, h.core.pacing = clock, True
            items = [
                Outgoing("n1", "prompt", to_user(SAM), text_message("This week: a book you loved"), program.id),
                Outgoing("n2", "import_invite", to_user(SAM), invite, program.id),
            ]
            await enqueue(s, ws.id or 0, items, clock.now())
        h.connector.calls.clear()

        assert await h.core.dispatch() == 0, "nothing at 22:00 in Sam's zone"
        clock.set(local_dt(date(2026, 11, 24), time(8, 0), sam.timezone))
        assert await h.core.dispatch() == 1
        [call] = h.connector.calls_to("POST", "/activities")
        card = call.body["attachments"][0]["content"]
        assert "a book you loved" in _texts(card) and "Join Coffee chats?" in _texts(card)
        [action] = [
            a
            for b in card["body"]
            if b.get("type") == "ActionSet"
            for a in b["actions"]
            if a["type"] == "Action.Execute"
        ]
        parts = [d for d in await h.rows(Delivery) if d.idempotency_key in ("n1", "n2")]
        assert {p.state for p in parts} == {"sent"} and len({p.platform_message_id for p in parts}) == 1

        click = h.activity("invoke_adaptiveCard_action_execute")
        click["value"]["action"] = {
            "type": "Action.Execute",
            "verb": action["verb"],
            "title": action["title"],
            "data": action["data"],
        }
        click["from"], click["conversation"] = hello["from"], hello["conversation"]
        click.pop("channelData", None)
        click["replyToId"] = parts[0].platform_message_id
        status, body = await h.post(click)
        assert status == 200, body
        updated = body["value"]
        assert "a book you loved" in _texts(updated), "the other part is still there"
        assert "You're in Coffee chats" in _texts(updated) and "Join Coffee chats?" not in _texts(updated)
