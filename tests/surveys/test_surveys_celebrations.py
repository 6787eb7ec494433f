"""Shout-outs in the program channel at milestones, unless someone in the pair turned them off."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.relationships.wrapup import wrap_up_relationships
from storage.tables import Match, Program, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import answer, match_now, program_with, survey_to, text_of


def _shoutouts(h: Harness) -> list[str]:
    return [
        s.message.plain_text()
        for s in h.port.sent
        if s.channel == "coffee" and "Icebreaker" not in s.message.plain_text()
    ]


async def _mentoring_pair(h: Harness):  # noqa: ANN202
    admin, people = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    return admin, people


async def _end_of_track(h: Harness, people, answers: tuple[str, ...] = ("yes", "yes")) -> None:  # noqa: ANN001
    """The track ends (the wrap-up runs twice, as a re-run step would) and each person answers "celebrate?"."""
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        match = (await s.exec(select(Match))).one()
        match.created_at = h.clock.now() - timedelta(weeks=program.track_weeks)
    await wrap_up_relationships(h.core)
    await wrap_up_relationships(h.core)
    await h.core.dispatch()
    for person, said in zip(people, answers, strict=True):
        wrap = next(s for s in reversed(h.to(person.user_id)) if s.message.summary == "Wrapping up your mentoring")
        await h.click(person, wrap, "wrapup:choice", value=f"{match.id}|done")
        await h.click(person, wrap, "wrapup:celebrate", value=f"{match.id}|{said}")
    await h.core.dispatch()


async def test_first_meeting_and_program_completed_are_celebrated(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await _mentoring_pair(h)
    await answer(h, people[0], survey_to(h, "U1", "Did you meet?"), "|yes")
    await h.core.dispatch()
    await _end_of_track(h, people)
    shouts = _shoutouts(h)
    assert len(shouts) == 2
    assert "Person1 and Person2 had their first chat" in shouts[0]
    assert "Person1 and Person2 completed the program together" in shouts[1]


async def test_no_shout_out_when_someone_turned_them_off_or_they_never_met(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (mentor, mentee) = await _mentoring_pair(h)
    await _end_of_track(h, (mentor, mentee))
    assert _shoutouts(h) == [], "a pair that never met is not celebrated"
    async with db.transaction() as s:
        (await s.exec(select(User).where(User.platform_user_id == "U2"))).one().shoutouts = False
    reply = await answer(h, mentor, survey_to(h, "U1", "Did you meet?"), "|yes")
    assert "✓ Yes" in text_of(reply)
    await h.core.dispatch()
    assert _shoutouts(h) == []


async def test_program_completed_needs_everyone_to_say_yes(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await _mentoring_pair(h)
    await answer(h, people[0], survey_to(h, "U1", "Did you meet?"), "|yes")
    await _end_of_track(h, people, ("yes", "no"))
    assert [t for t in _shoutouts(h) if "completed" in t] == []
