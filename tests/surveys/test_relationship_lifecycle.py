"""The life of a match: peer groups end with their round, rematches touch one match, waiting is said once."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from storage.enums import EndReason, MatchStatus
from storage.tables import Delivery, Match, MatchMember, Membership, Round, User, Waitlist
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import answer, match_now, program_with, survey_to


async def _run(h: Harness, days: int, hours: int = 6) -> None:
    """Move time forward in steps, letting the scheduler and the sender catch up at each one."""
    for _ in range(days * 24 // hours):
        h.clock.advance(timedelta(hours=hours))
        await h.core.tick()


async def _answer_did_you_meet(h: Harness, people) -> None:  # noqa: ANN001
    for person in people:
        sent = [s for s in h.to(person.user_id) if "Did you meet?" in s.message.plain_text()]
        if sent:
            await answer(h, person, sent[-1], "|yes")


async def test_peer_groups_that_met_end_when_the_next_round_starts_and_hear_nothing_after(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await program_with(h, 4, kind="peer")
    await _run(h, days=4)  # round 1 at Monday 10:00, the check-in three days later
    await _answer_did_you_meet(h, people)
    async with db.session() as s:
        first = (await s.exec(select(Round).where(Round.number == 1))).one()
        met = (await s.exec(select(Match).where(Match.round_id == first.id))).all()
    assert met and all(m.status == MatchStatus.MET.value for m in met)

    await _run(h, days=14)  # two more rounds
    async with db.session() as s:
        second = (await s.exec(select(Round).where(Round.number == 2))).one()
        old = (await s.exec(select(Match).where(Match.round_id == first.id))).all()
        late = (
            await s.exec(
                select(Delivery).where(
                    col(Delivery.match_id).in_([m.id for m in old]), col(Delivery.created_at) > second.matched_at
                )
            )
        ).all()
    assert all(m.status == MatchStatus.ENDED.value and m.end_reason == EndReason.ROUND_OVER.value for m in old)
    assert all(m.met_at is not None for m in old)  # ending keeps the fact that they met
    assert late == [], [d.step for d in late]


async def _mentor_with_two_mentees(h: Harness):  # noqa: ANN202
    admin, people = await program_with(h, 3, kind="mentoring", mentors=1)
    async with h.core.db.transaction() as s:
        mentor = (await s.exec(select(Membership).where(Membership.role == "mentor"))).one()
        mentor.capacity = 2
    await match_now(h, admin)
    return admin, people


async def test_not_a_fit_about_one_mentee_ends_only_that_match(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, first, second) = await _mentor_with_two_mentees(h)
    async with db.session() as s:
        matches = (await s.exec(select(Match).order_by(col(Match.id)))).all()
    assert len(matches) == 2
    await _run(h, days=4)
    await _answer_did_you_meet(h, [mentor, first, second])
    await _run(h, days=7)  # the next check-in asks whether it's a good fit
    fit = survey_to(h, first.user_id, "Is this a good fit?")
    await answer(h, first, fit, "|not_a_fit")

    await match_now(h, admin)  # the next round
    async with db.session() as s:
        by_id = {m.id: m for m in (await s.exec(select(Match))).all()}
        ended = [m for m in by_id.values() if m.status == MatchStatus.ENDED.value]
        members = (await s.exec(select(MatchMember, User).join(User, col(User.id) == MatchMember.user_id))).all()
    assert len(ended) == 1 and ended[0].end_reason == EndReason.REMATCH.value
    second_matches = {mm.match_id for mm, u in members if u.platform_user_id == second.user_id}
    assert len(second_matches) == 1, "the other mentee keeps the mentor and is not matched again"


async def test_a_mentor_with_two_mentees_is_told_which_mentee_each_check_in_is_about(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (mentor, first, second) = await _mentor_with_two_mentees(h)
    await _run(h, days=4)
    asks = [s.message.plain_text() for s in h.to(mentor.user_id) if "Did you meet?" in s.message.plain_text()]
    assert len(asks) == 2
    assert any(first.name in a for a in asks) and any(second.name in a for a in asks)
    status = await h.command(mentor, "status")
    text = status.message.plain_text()
    assert first.name in text and second.name in text


async def test_waiting_is_said_once_and_never_to_a_mentor_who_has_a_mentee(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, first, second) = await program_with(h, 3, kind="mentoring", mentors=1)
    for _ in range(4):
        await match_now(h, admin)
        h.clock.advance(timedelta(days=7))
    waiting = [
        s for p in (mentor, first, second) for s in h.to(p.user_id) if "No match for you" in s.message.plain_text()
    ]
    assert len(waiting) == 1, [s.audience for s in waiting]
    assert mentor.user_id not in waiting[0].audience
    async with db.session() as s:
        listed = (await s.exec(select(Waitlist, User).join(User, col(User.id) == Waitlist.user_id))).all()
    assert mentor.user_id not in {u.platform_user_id for _, u in listed}


async def test_a_booked_time_passing_is_not_celebrated_as_a_first_chat(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (a, b) = await program_with(h, 2, kind="peer")
    await match_now(h, admin)
    intro = h.last_to(a.user_id)
    await h.click(a, intro, "book:propose")
    await h.core.dispatch()
    proposal = next(s for s in reversed(h.to(b.user_id)) if "Accept" in str(s.message.blocks))
    await h.click(b, proposal, "book:accept")
    await _run(h, days=2)
    channel = [s.message.plain_text() for s in h.port.sent if s.channel == "coffee"]
    assert not any("first chat" in t for t in channel), channel


async def test_a_mentor_is_never_offered_or_booked_the_same_time_for_two_mentees(db, start_time) -> None:  # noqa: ANN001
    from storage.tables import Meeting

    h = Harness.create(db, start_time)
    _, (mentor, first, second) = await _mentor_with_two_mentees(h)
    async with db.session() as s:
        offers = (await s.exec(select(Meeting).order_by(col(Meeting.id)))).all()
    assert len(offers) == 2 and offers[0].slots and offers[1].slots
    assert not set(offers[0].slots) & set(offers[1].slots), "each pair is offered its own times"

    intro = next(s for s in h.to(first.user_id) if "book:propose" in str(s.message.blocks))
    await h.click(first, intro, "book:propose")
    await h.core.dispatch()
    async with db.transaction() as s:  # the second pair's offer somehow holds the very same time
        one, two = (await s.exec(select(Meeting).order_by(col(Meeting.id)))).all()
        two.slots = [one.start_at.isoformat(), *two.slots[1:]]
    intro = next(s for s in h.to(second.user_id) if "book:propose" in str(s.message.blocks))
    reply = await h.click(second, intro, "book:propose", value=f"{two.id}|0")
    assert "clashes with another chat" in reply.message.plain_text()
    async with db.session() as s:
        assert (await s.get(Meeting, two.id)).state == "offered"


async def test_weekly_prompts_quote_the_pairs_own_goals(db, start_time) -> None:  # noqa: ANN001
    from storage.tables import Goal

    h = Harness.create(db, start_time)
    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    async with db.transaction() as s:
        match = (await s.exec(select(Match))).one()
        s.add(Goal(match_id=match.id, position=1, text="lead a design review", status="on_track"))
        s.add(Goal(match_id=match.id, position=2, text="ship the pricing page", status="done"))
    await _run(h, days=9)
    prompts = [s.message.plain_text() for s in h.to(mentee.user_id) if "Week 2" in s.message.summary]
    assert prompts and "You set “lead a design review”; where is it now? (on track)" in prompts[0]
    assert "ship the pricing page" not in prompts[0], "goals already done are not nagged about"


async def test_without_group_chats_each_prompt_and_nudge_names_the_match_it_is_about(db, start_time) -> None:  # noqa: ANN001
    from bot.kernel.port import PlatformCapabilities

    h = Harness.create(db, start_time)
    h.port.capabilities = PlatformCapabilities(group_conversations=False)  # like Teams: 1:1 messages only
    _, (mentor, first, second) = await _mentor_with_two_mentees(h)
    await _run(h, days=9)
    prompts = [s.message.plain_text() for s in h.to(mentor.user_id) if "Week 2" in s.message.summary]
    assert len(prompts) == 2
    assert any(f"About your match with {first.name}" in p for p in prompts)
    assert any(f"About your match with {second.name}" in p for p in prompts)
    nudges = [s.message.plain_text() for s in h.to(mentor.user_id) if "Still looking" in s.message.summary]
    assert nudges and all(first.name in n or second.name in n for n in nudges)


def test_in_a_group_only_whoever_asked_for_a_rematch_is_kept_from_the_others() -> None:
    from bot.relationships.rounds import kept_apart

    assert kept_apart([1, 2], set()) == {(1, 2), (2, 1)}
    assert kept_apart([1, 2, 3], {2}) == {(2, 1), (2, 3), (1, 2), (3, 2)}, "1 and 3 may meet again"
    assert len(kept_apart([1, 2, 3], set())) == 6, "an admin's rematch of a group keeps everyone apart"
