"""`forget me` and `forget @person`: nothing of the person left in any column of any table, the other
person's history and the program's totals intact, and nothing sent to them afterwards. `my data` round-trips."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.admin.stats import program_stats
from bot.kernel.events import MentionRef, Reply
from storage.enums import DeliveryState
from storage.tables import Delivery, Match, MatchMember, Program, User
from tests.core.harness import Harness
from tests.privacy.privacy_helpers import ADMIN, BEN, ZOE, file_of, lived_in, scan, user_row
from tests.surveys.surveys_helpers import text_of


async def _totals(h: Harness) -> list[tuple]:
    async with h.core.db.session() as s:
        program = (await s.exec(select(Program))).one()
        stats = await program_stats(s, program, h.clock.now())
    return [(r.number, r.matches, r.met, r.asked, r.answered, r.did_you_meet_yes, r.goals) for r in stats.rounds]


async def test_my_data_file_holds_every_row_the_scan_finds(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await lived_in(h)
    zoe = await user_row(h, ZOE.actor.user_id)
    found = await scan(h, ZOE, zoe.id or 0)
    assert {t for t, _ in found} >= {"tandem_user", "membership", "match_member", "survey_answer", "goal", "recap"}
    reply = await h.command(ZOE.actor, "my data")
    assert "direct message" in text_of(reply)
    await h.core.dispatch()
    data = file_of(h, ZOE.actor.user_id)
    in_file = {(table, row.get("id")) for table, rows in data["tables"].items() for row in rows}
    assert set(found) <= in_file, set(found) - in_file
    assert all(text in str(data) for text in ZOE.texts)
    avoided_by_ben = [r for r in data["tables"].get("avoidance", []) if r["user_id"] != zoe.id]
    assert avoided_by_ben == []  # someone else's avoid list is theirs alone
    summary = h.to(ZOE.actor.user_id)[-1].message.plain_text()
    assert "Zoë Quartermain" in summary and "survey answers" in summary


async def test_forget_me_leaves_no_trace_keeps_history_and_totals(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    match_id = await lived_in(h)
    zoe = await user_row(h, ZOE.actor.user_id)
    ben = await user_row(h, BEN.actor.user_id)
    totals = await _totals(h)
    await h.command(ZOE.actor, "my data")  # a file of her data waits in the outbox too
    ask = await h.command(ZOE.actor, "forget me")
    assert isinstance(ask, Reply) and "can't be undone" in text_of(ask)
    sent_to_zoe = len(h.to(ZOE.actor.user_id))
    h.port.sent.append(_as_sent(h, ask))
    done = await h.click(ZOE.actor, h.port.sent[-1], "privacy:forget")
    assert "forgotten you" in text_of(done)
    for _ in range(3):
        await h.core.dispatch()
        h.clock.advance(timedelta(days=3))
        await h.core.tick()

    left = await scan(h, ZOE, -1, by_key=False)
    assert left == {}, left
    assert len(h.to(ZOE.actor.user_id)) == sent_to_zoe + 1  # only the appended confirm, nothing sent after
    assert await _totals(h) == totals
    async with db.session() as s:
        members = (await s.exec(select(User).join(MatchMember).where(MatchMember.match_id == match_id))).all()
        assert sorted(u.display_name for u in members) == ["Benedikt Oyelaran", "Former participant"]
        assert (await s.get(Match, match_id)) is not None
        cancelled = (await s.exec(select(Delivery).where(Delivery.idempotency_key == "test:zoe:later"))).one()
        assert cancelled.state == DeliveryState.CANCELLED.value
        for_both = (await s.exec(select(Delivery).where(Delivery.idempotency_key == "test:pair:later"))).one()
        assert for_both.target == {"kind": "user", "user_id": BEN.actor.user_id}
        assert (await s.get(User, zoe.id)).platform_user_id == f"forgotten-{zoe.id}"
    assert any("For both" in s.message.plain_text() for s in h.to(BEN.actor.user_id))
    status = await h.command(BEN.actor, "status")
    assert "Traceback" not in text_of(status) and ben.id is not None


def _as_sent(h: Harness, reply: Reply):  # noqa: ANN202
    """The ephemeral confirm as if it arrived, so the harness can click its button."""
    from adapters.console.port import Sent
    from bot.kernel.events import SentRef

    return Sent(SentRef("dm", "confirm"), (ZOE.actor.user_id,), None, reply.message, h.clock.now())


async def test_admin_forgets_a_person_others_cannot(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await lived_in(h)
    mention = (MentionRef(user_id=BEN.actor.user_id, text="@Benedikt Oyelaran"),)
    refused = await h.command(ZOE.actor, "forget @Benedikt Oyelaran", mentions=mention)
    assert "Benedikt" not in text_of(refused) and "workspace admins" in text_of(refused)
    ask = await h.command(ADMIN, "forget @Benedikt Oyelaran", mentions=mention)
    assert "Forget Benedikt Oyelaran?" in text_of(ask)
    sent = _as_sent(h, ask)
    sneaky = await h.click(ZOE.actor, sent, "privacy:forget")  # the button alone grants nothing
    assert "workspace admins" in text_of(sneaky)
    done = await h.click(ADMIN, sent, "privacy:forget")
    assert "forgotten" in text_of(done)
    assert await scan(h, BEN, -1, by_key=False) == {}
    again = await h.click(ADMIN, sent, "privacy:forget")
    assert "nothing left" in text_of(again)


async def test_a_namesake_is_left_alone(db, start_time) -> None:  # noqa: ANN001
    """Forgetting one Zoë Quartermain leaves another person of that name alone."""
    h = Harness.create(db, start_time)
    await lived_in(h)
    async with db.transaction() as s:
        zoe = (await s.exec(select(User).where(User.platform_user_id == ZOE.actor.user_id))).one()
        s.add(User(workspace_id=zoe.workspace_id, platform_user_id="UOTHER", display_name="Zoë Quartermain"))
    ask = await h.command(ADMIN, "forget @Zoë", mentions=(MentionRef(user_id=ZOE.actor.user_id, text="@Zoë"),))
    await h.click(ADMIN, _as_sent(h, ask), "privacy:forget")
    other = await user_row(h, "UOTHER")
    assert other.display_name == "Zoë Quartermain"
    assert (await user_row(h, BEN.actor.user_id)).display_name == "Benedikt Oyelaran"
