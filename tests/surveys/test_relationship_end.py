"""The end of a relationship: leaving or being removed ends one's matches; the wrap-up at the end of a track."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from storage.enums import EndReason, MatchStatus
from storage.tables import Delivery, Match
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import match_now, program_with, text_of


async def _run(h: Harness, days: int, hours: int = 6) -> None:
    for _ in range(days * 24 // hours):
        h.clock.advance(timedelta(hours=hours))
        await h.core.tick()


async def test_leaving_ends_ones_match_and_tells_the_others_once(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (a, b, c) = await program_with(h, 3, kind="peer")
    async with h.core.db.transaction() as s:  # a group of three
        from storage.tables import Program

        program = (await s.exec(select(Program))).one()
        program.group_size = 3
    await match_now(h, admin)
    assert "You've left Coffee" in text_of(await h.command(a, "leave"))
    await h.command(a, "leave")  # twice: nothing more happens
    await h.core.dispatch()
    async with db.session() as s:
        match = (await s.exec(select(Match))).one()
    assert match.status == MatchStatus.ENDED.value and match.end_reason == EndReason.LEFT.value
    for other in (b, c):
        told = [x for x in h.to(other.user_id) if "has left" in x.message.plain_text()]
        assert len(told) == 1 and told[0].message.plain_text() == (
            "Person1 has left Coffee; you'll get a new match next round."
        )
    assert not [x for x in h.to(a.user_id) if "has left" in x.message.plain_text()]

    await _run(h, days=9)  # the check-in and the week-2 prompt: nothing about the ended group
    async with db.session() as s:
        later = (
            await s.exec(
                select(Delivery).where(
                    Delivery.match_id == match.id, col(Delivery.step).not_in(["intro", "match_ended"])
                )
            )
        ).all()
    assert [d.step for d in later if not d.step.startswith("book")] == []


async def test_an_admin_removing_someone_ends_their_match_without_saying_removed(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (a, b) = await program_with(h, 2, kind="peer")
    await match_now(h, admin)
    from bot.kernel.events import MentionRef

    reply = await h.command(admin, "remove @Person2", mentions=(MentionRef(user_id=b.user_id, text="@Person2"),))
    assert "Removed Person2" in text_of(reply)
    await h.core.dispatch()
    async with db.session() as s:
        match = (await s.exec(select(Match))).one()
    assert match.status == MatchStatus.ENDED.value and match.end_reason == EndReason.REMOVED.value
    told = [x.message.plain_text() for x in h.to(a.user_id) if "Person2" in x.message.plain_text()]
    assert told[-1] == "Person2 has left Coffee; you'll get a new match next round."
