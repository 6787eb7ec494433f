"""Pulse surveys in the chat: one answer per person, changeable until close, one reminder, rematch offers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.kernel.events import NoReply, Reply
from bot.relationships.rounds import build_problem, next_round_number, pool_for
from storage.enums import MatchStatus
from storage.tables import Match, Membership, Program, SurveyAnswer, SurveyInstance, SurveyRecipient
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import answer, match_now, program_with, survey_to, text_of, user_id

DID_YOU_MEET = "Did you meet?"


async def _checkin(h: Harness, n: int = 2):  # noqa: ANN202
    admin, people = await program_with(h, n)
    await match_now(h, admin)
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    return admin, people


async def test_changed_and_duplicate_answers_are_stored_once(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (ana, _) = await _checkin(h)
    survey = survey_to(h, "U1", DID_YOU_MEET)
    first = await answer(h, ana, survey, "|not_yet", event_id="ev-1")
    retry = await answer(h, ana, survey, "|not_yet", event_id="ev-1")  # the platform retries the same click
    double = await answer(h, ana, survey, "|not_yet", event_id="ev-2")  # a second click on the same button
    assert isinstance(first, Reply) and isinstance(retry, NoReply)
    assert "✓ Not yet" in text_of(double)
    changed = await answer(h, ana, survey, "|yes", event_id="ev-3")
    assert "✓ Yes" in text_of(changed) and "You can change your answer" in text_of(changed)
    async with db.session() as s:
        rows = (await s.exec(select(SurveyAnswer))).all()
        assert [(r.question_id, r.value, r.user_id) for r in rows] == [("met", "yes", await user_id(h, "U1"))]
        recipient = (
            await s.exec(select(SurveyRecipient).where(SurveyRecipient.user_id == await user_id(h, "U1")))
        ).one()
        assert recipient.answered


async def test_one_reminder_to_those_who_have_not_answered_then_it_closes(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (ana, ben) = await _checkin(h)
    await answer(h, ana, survey_to(h, "U1", DID_YOU_MEET), "|yes")
    for _ in range(3):  # ticks after the reminder time: still one reminder
        h.clock.advance(timedelta(days=1))
        await h.core.tick()
    reminders = [s for s in h.port.sent if "gentle reminder" in s.message.plain_text()]
    assert [r.audience for r in reminders] == [("U2",)]
    h.clock.advance(timedelta(days=1, hours=1))
    await h.core.tick()
    async with db.session() as s:
        instance = (
            await s.exec(
                select(SurveyInstance).where(SurveyInstance.definition_id == "did_you_meet").order_by(SurveyInstance.id)
            )
        ).first()
        assert instance is not None and instance.closed_at is not None
    late = await answer(h, ben, survey_to(h, "U2", DID_YOU_MEET), "|yes")
    assert "closed" in text_of(late)
    assert len([s for s in h.port.sent if "gentle reminder" in s.message.plain_text()]) == 1


async def test_cant_meet_offers_a_rematch_tells_admins_and_reaches_next_round(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await _checkin(h, n=4)
    ana = people[0]
    async with db.session() as s:
        mine = await user_id(h, "U1")
    reply = await answer(h, ana, survey_to(h, "U1", DID_YOU_MEET), "|cant_meet")
    assert "new match in the next round" in text_of(reply)
    await h.core.dispatch()
    notes = [s for s in h.to("UADMIN") if "🔔" in s.message.plain_text()]
    assert len(notes) == 1 and "Person1" in notes[0].message.plain_text()
    async with db.transaction() as s:
        from storage.tables import MatchMember

        match_id = (await s.exec(select(MatchMember.match_id).where(MatchMember.user_id == mine))).first()
        match = await s.get(Match, match_id)
        assert match is not None and match.status == MatchStatus.ENDED.value
        assert match.end_reason == "rematch", "the rematch belongs to this match, not to the person"
        partners = [
            str(u)
            for u in (
                await s.exec(
                    select(MatchMember.user_id).where(MatchMember.match_id == match_id, MatchMember.user_id != mine)
                )
            ).all()
        ]
        program = (await s.exec(select(Program))).one()
        pool = await pool_for(s, program, h.clock.now())
        problem = await build_problem(s, program, await next_round_number(s, program.id), h.clock.now(), pool)
        by_id = {p["id"]: p for p in problem["participants"]}
        assert set(partners) <= set(by_id[str(mine)]["avoid"])
        for partner in partners:
            assert str(mine) in by_id[partner]["avoid"]
    await h.command(h.actor("UADMIN", "Morgan", admin=True), "match now")
    async with db.transaction() as s:
        member = (await s.exec(select(Membership).where(Membership.user_id == mine))).one()
        assert not member.wants_rematch, "the request is for one round only"
        program = (await s.exec(select(Program))).one()
        pool = await pool_for(s, program, h.clock.now())
        problem = await build_problem(s, program, 9, h.clock.now(), pool)
        assert all(p["avoid"] == [] for p in problem["participants"])


async def test_not_a_good_fit_frees_a_mentoring_pair_for_the_next_round(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    await answer(h, mentee, survey_to(h, "U2", DID_YOU_MEET), "|yes")
    h.clock.advance(timedelta(days=7))
    await h.core.tick()
    reply = await answer(h, mentee, survey_to(h, "U2", "Is this a good fit?"), "|not_a_fit")
    assert "new match in the next round" in text_of(reply)
    await h.core.dispatch()
    assert any("Not a good fit" in s.message.plain_text() for s in h.to("UADMIN"))
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        assert (await s.exec(select(Match))).one().status == MatchStatus.ENDED.value
        pool = await pool_for(s, program, h.clock.now())
        problem = await build_problem(s, program, 5, h.clock.now(), pool)
    mentor_id, mentee_id = str(await user_id(h, "U1")), str(await user_id(h, "U2"))
    by_id = {p["id"]: p for p in problem["participants"]}
    assert by_id[mentee_id]["avoid"] == [mentor_id] and by_id[mentor_id]["avoid"] == [mentee_id]
    assert by_id[mentor_id]["capacity"] == 1, "the mentor's place is free again"
