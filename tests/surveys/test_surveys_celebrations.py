"""Shout-outs in the program channel at milestones, unless someone in the pair turned them off."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.engagement.surveys import open_survey
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


async def _end_of_track(h: Harness) -> None:
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        match = (await s.exec(select(Match))).one()
        users = list((await s.exec(select(User).where(User.platform_user_id.in_(["U1", "U2"])))).all())
        await open_survey(h.core, s, program, "end_of_program", f"match:{match.id}:end_of_program", users, match=match)
        await open_survey(
            h.core, s, program, "end_of_program", f"match:{match.id}:end_of_program", users, match=match
        )  # a step that runs again: still one shout-out
    await h.core.dispatch()


async def test_first_meeting_and_program_completed_are_celebrated(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (mentor, _) = await _mentoring_pair(h)
    await answer(h, mentor, survey_to(h, "U1", "Did you meet?"), "|yes")
    await h.core.dispatch()
    await _end_of_track(h)
    shouts = _shoutouts(h)
    assert len(shouts) == 2
    assert "Person1 and Person2 had their first chat" in shouts[0]
    assert "Person1 and Person2 completed the program together" in shouts[1]


async def test_no_shout_out_when_someone_turned_them_off_or_they_never_met(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (mentor, mentee) = await _mentoring_pair(h)
    await _end_of_track(h)
    assert _shoutouts(h) == [], "a pair that never met is not celebrated"
    async with db.transaction() as s:
        (await s.exec(select(User).where(User.platform_user_id == "U2"))).one().shoutouts = False
    reply = await answer(h, mentor, survey_to(h, "U1", "Did you meet?"), "|yes")
    assert "✓ Yes" in text_of(reply)
    await h.core.dispatch()
    assert _shoutouts(h) == []
