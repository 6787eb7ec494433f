"""Goals: the `goals` command, the halfway goal review with its one-tap statuses, and the review message."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from adapters.console.port import Sent
from bot.kernel.events import Reply, SentRef
from bot.relationships.goal_reviews import END, goal_review_message
from storage.enums import EndReason, MatchStatus
from storage.tables import Goal, Match, MatchMember, Program, User
from tests.core.harness import Harness
from tests.relationships.test_agreements import TERMS, mentoring_pair, open_from_intro, proposal_to
from tests.surveys.surveys_helpers import text_of


async def agreed_pair(h: Harness):  # noqa: ANN202
    admin, mentor, mentee = await mentoring_pair(h)
    await h.submit(mentee, await open_from_intro(h, mentee), TERMS)
    await h.core.dispatch()
    await h.click(mentor, proposal_to(h, mentor), "agree:confirm")
    return admin, mentor, mentee


async def _run(h: Harness, days: float, hours: int = 6) -> None:
    for _ in range(int(days * 24 // hours)):
        h.clock.advance(timedelta(hours=hours))
        await h.core.tick()


def reviews(h: Harness, person) -> list:  # noqa: ANN001
    return [s for s in h.to(person.user_id) if "Halfway there" in s.message.plain_text()]


async def test_goals_lists_each_goal_with_its_status_and_author_or_says_how_to_set_them(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    empty = text_of(await h.command(mentor, "goals"))
    assert f"With {mentee.name}" in empty and "`agreement`" in empty
    await h.submit(mentee, await open_from_intro(h, mentee), TERMS)
    text = text_of(await h.command(mentor, "goals"))
    assert f"Lead a design review (not started), by {mentee.name}" in text
    mine = text_of(await h.command(mentee, "goals"))
    assert "Speak at the guild meetup (not started), by you" in mine and f"With {mentor.name}" in mine
    loner = h.actor("U9", "Loner")
    await h.enrol(loner)
    assert "no live mentoring match" in text_of(await h.command(loner, "goals"))


async def test_the_halfway_review_goes_once_to_each_member_and_a_tap_saves_and_redraws(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await agreed_pair(h)
    async with db.transaction() as s:
        (await s.exec(select(Program))).one().track_weeks = 4  # halfway: week 3
    await _run(h, days=13)
    assert reviews(h, mentee) == [] and reviews(h, mentor) == []
    await _run(h, days=2)
    (review,) = reviews(h, mentee)
    assert len(reviews(h, mentor)) == 1
    text = review.message.plain_text()
    assert mentor.name in text and "Lead a design review" in text and "Written by you" in text
    await _run(h, days=10)
    assert len(reviews(h, mentee)) == 1 and len(reviews(h, mentor)) == 1  # once per match per review

    async with db.session() as s:
        goal = (await s.exec(select(Goal).where(Goal.position == 1))).one()
    reply = await h.click(mentee, review, "goal:status", value=f"{goal.id}|halfway|done")
    assert isinstance(reply, Reply) and reply.replace_original
    assert "✓ done" in reply.message.plain_text() and "(done)" in reply.message.plain_text()
    async with db.session() as s:
        saved = await s.get(Goal, goal.id)
    assert saved is not None and saved.status == "done" and saved.updated_at == h.clock.now()
    assert "✅ Lead a design review (done)" in text_of(await h.command(mentor, "goals"))


async def test_status_taps_from_outsiders_or_on_an_ended_match_change_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await agreed_pair(h)
    async with db.transaction() as s:
        goal = (await s.exec(select(Goal).where(Goal.position == 1))).one()
        match = (await s.exec(select(Match))).one()
        members = [u for _, u in (await s.exec(select(MatchMember, User).join(User))).all()]
    viewer = next(u for u in members if u.platform_user_id == mentee.user_id)
    others = [u for u in members if u.id != viewer.id]
    message = goal_review_message(match, [goal], viewer, others, "halfway")
    stranger = h.actor("U9", "Stranger")
    await h.enrol(stranger)
    sent = Sent(ref=SentRef("c", "m"), audience=(mentee.user_id,), channel=None, message=message, at=h.clock.now())
    outsider = await h.click(stranger, sent, "goal:status", value=f"{goal.id}|halfway|done")
    assert "another match" in text_of(outsider)
    async with db.transaction() as s:
        m = await s.get(Match, match.id)
        m.status, m.end_reason = MatchStatus.ENDED.value, EndReason.TRACK_OVER.value
    closed = await h.click(mentee, sent, "goal:status", value=f"{goal.id}|halfway|stuck")
    assert "has ended" in text_of(closed)
    async with db.session() as s:
        assert (await s.get(Goal, goal.id)).status == "not_started"
    # the end-of-track review (part of the wrap-up) still takes taps after the match ended
    end = goal_review_message(match, [goal], viewer, others, END)
    sent_end = Sent(ref=SentRef("c", "m2"), audience=(mentee.user_id,), channel=None, message=end, at=h.clock.now())
    done = await h.click(mentee, sent_end, "goal:status", value=f"{goal.id}|end|done")
    assert isinstance(done, Reply) and "looking back" in done.message.plain_text()
    async with db.session() as s:
        assert (await s.get(Goal, goal.id)).status == "done"
