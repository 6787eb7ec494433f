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


async def _two_week_track(h: Harness):  # noqa: ANN202
    """A mentoring pair on a two-week track who met, with one goal written down."""
    from storage.tables import Goal, Program

    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    async with h.core.db.transaction() as s:
        (await s.exec(select(Program))).one().track_weeks = 2
    await match_now(h, admin)
    async with h.core.db.transaction() as s:
        match = (await s.exec(select(Match))).one()
        match.status, match.met_at, match.meetings_count = MatchStatus.MET.value, h.clock.now(), 1
        s.add(Goal(match_id=match.id, position=1, text="lead a design review", status="done"))
    return admin, mentor, mentee


def _wrapup(h: Harness, user_id: str):  # noqa: ANN202
    return next(s for s in reversed(h.to(user_id)) if "Wrapping up your mentoring" in s.message.summary)


def _celebrations(h: Harness) -> list[str]:
    return [
        s.message.plain_text() for s in h.port.sent if s.channel == "coffee" and "completed" in s.message.plain_text()
    ]


async def _click(h: Harness, person, sent, action_id: str, answer: str):  # noqa: ANN001, ANN202
    value = next(
        e.value
        for b in sent.message.blocks
        if hasattr(b, "elements")
        for e in b.elements
        if e.value.endswith(answer) and e.action_id == action_id
    )
    return await h.click(person, sent, action_id, value=value)


async def test_the_end_of_a_track_sends_one_wrap_up_then_the_survey_and_keeping_on_ends_it_informally(
    db,
    start_time,  # noqa: ANN001
) -> None:
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _two_week_track(h)
    await _run(h, days=13)
    assert not [s for s in h.to(mentee.user_id) if "Wrapping up" in s.message.summary], "not before the track ends"
    await _run(h, days=2)
    for person, other in ((mentor, mentee), (mentee, mentor)):
        mine = [s for s in h.to(person.user_id) if s.message.summary in ("Wrapping up your mentoring", "Wrapping up")]
        assert [s.message.summary for s in mine] == ["Wrapping up your mentoring", "Wrapping up"], (
            "wrap-up, then survey"
        )
        text = mine[0].message.plain_text()
        assert f"with {other.name} are over" in text
        assert "✅ lead a design review (done)" in text
        assert (
            "[Keep meeting on our own] [Wrap up here]" in text
            and "celebrate your journey in the Coffee channel" in text
        )
    assert _celebrations(h) == [], "nothing is celebrated before everyone says yes"

    wrap = _wrapup(h, mentee.user_id)
    reply = await _click(h, mentee, wrap, "wrapup:choice", "keep")
    assert "✓ Keep meeting on our own" in text_of(reply) and "I won't prompt you" in text_of(reply)
    await _click(h, mentee, wrap, "wrapup:celebrate", "yes")
    wrap = _wrapup(h, mentor.user_id)
    await _click(h, mentor, wrap, "wrapup:choice", "done")
    await _click(h, mentor, wrap, "wrapup:celebrate", "yes")
    await h.core.dispatch()
    async with db.session() as s:
        match = (await s.exec(select(Match).order_by(col(Match.id)))).first()
    assert match.status == MatchStatus.ENDED.value and match.end_reason == EndReason.INFORMAL.value
    assert _celebrations(h) == ["Person1 and Person2 completed the program together 🎓 Thank you both!"]
    assert "goes on, on your own terms" in h.last_to(mentor.user_id).message.plain_text()

    late = await _click(h, mentee, wrap, "wrapup:choice", "done")
    assert "already ended; nothing was changed" in text_of(late)
    async with db.session() as s:
        assert (await s.get(Match, match.id)).end_reason == EndReason.INFORMAL.value
    ended_at = h.clock.now()
    await _run(h, days=14)  # (the two may be matched anew by later rounds: that is a new match)
    async with db.session() as s:
        later = (
            await s.exec(select(Delivery).where(Delivery.match_id == match.id, col(Delivery.created_at) > ended_at))
        ).all()
    assert [d.step for d in later] == [], "an ended relationship hears nothing more"


async def test_without_answers_the_track_ends_after_a_week_and_one_no_means_no_celebration(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _two_week_track(h)
    await _run(h, days=15)
    await _click(h, mentee, _wrapup(h, mentee.user_id), "wrapup:celebrate", "yes")
    await _click(h, mentor, _wrapup(h, mentor.user_id), "wrapup:celebrate", "no")
    from bot.kernel.events import ActionEvent

    wrap = _wrapup(h, mentor.user_id)
    bad = await h.core.handle(
        ActionEvent(actor=mentor, action_id="wrapup:choice", value="1|sometimes", message=wrap.ref)
    )
    assert "isn't one of the choices; nothing was changed" in text_of(bad)
    await _run(h, days=5)
    async with db.session() as s:
        assert (await s.exec(select(Match).order_by(col(Match.id)))).first().status != MatchStatus.ENDED.value, (
            "still time to answer"
        )
    await _run(h, days=3)
    await h.core.dispatch()
    async with db.session() as s:
        match = (await s.exec(select(Match).order_by(col(Match.id)))).first()
    assert match.status == MatchStatus.ENDED.value and match.end_reason == EndReason.TRACK_OVER.value
    assert _celebrations(h) == []
    assert any("has wrapped up" in sent.message.plain_text() for sent in h.to(mentee.user_id))


async def test_a_booked_chat_is_not_reminded_once_the_match_has_ended(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (a, b) = await program_with(h, 2, kind="peer")
    await match_now(h, admin)
    await h.click(a, h.last_to(a.user_id), "book:propose")
    await h.core.dispatch()
    proposal = next(s for s in reversed(h.to(b.user_id)) if "Accept" in str(s.message.blocks))
    await h.click(b, proposal, "book:accept")
    async with db.session() as s:
        from storage.tables import Meeting

        meeting = (await s.exec(select(Meeting))).one()
    assert meeting.state == "confirmed" and meeting.reminder_at is not None
    await h.command(b, "leave")
    await _run(h, days=7, hours=1)
    assert not [s for s in h.to(a.user_id) if "starts at" in s.message.plain_text()], "no reminder for an ended match"
    async with db.session() as s:
        assert (await s.get(Meeting, meeting.id)).reminder_at is None, "the reminder was due, and dropped"
