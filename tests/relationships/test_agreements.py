"""The mentorship agreement: proposed from the intro's button, confirmed by the other side, changed, refused."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.kernel.events import FormErrors, MentionRef, OpenForm, Reply
from storage.enums import EndReason, MatchStatus
from storage.tables import Agreement, Goal, Match
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import match_now, program_with, text_of

TERMS = {
    "goals": "Lead a design review\n\n  Speak at the guild meetup  \n",
    "cadence": "biweekly",
    "medium": "video",
    "avoid": "No Friday afternoons",
}


async def mentoring_pair(h: Harness):  # noqa: ANN202
    """A mentoring program's pair, introduced: (admin, mentor, mentee)."""
    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    return admin, mentor, mentee


async def open_from_intro(h: Harness, person) -> OpenForm:  # noqa: ANN001
    intro = next(s for s in h.to(person.user_id) if "Agree how you'll work" in s.message.plain_text())
    form = await h.click(person, intro, "agree:open")
    assert isinstance(form, OpenForm), form
    return form


async def stored(h: Harness) -> tuple[Agreement | None, list[Goal], Match]:
    async with h.core.db.session() as s:
        agreement = (await s.exec(select(Agreement))).first()
        goals = list((await s.exec(select(Goal).order_by(Goal.position))).all())
        match = (await s.exec(select(Match))).one()
    return agreement, goals, match


def proposal_to(h: Harness, person):  # noqa: ANN001, ANN201
    return next(s for s in reversed(h.to(person.user_id)) if "proposed how you'll work" in s.message.plain_text())


async def test_a_proposal_from_the_intro_is_confirmed_by_the_other_side(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    form = await open_from_intro(h, mentee)
    assert mentor.name in form.form.intro  # the form names the other side
    assert isinstance(await h.submit(mentee, form, TERMS), Reply)
    await h.core.dispatch()

    agreement, goals, match = await stored(h)
    assert agreement is not None and agreement.confirmed_at is None and agreement.avoid == "No Friday afternoons"
    assert [(g.position, g.text, g.status) for g in goals] == [
        (1, "Lead a design review", "not_started"),
        (2, "Speak at the guild meetup", "not_started"),
    ]
    proposal = proposal_to(h, mentor)
    text = proposal.message.plain_text()
    assert mentee.name in text and "Lead a design review" in text and "every two weeks" in text
    assert "video" in text and "No Friday afternoons" in text
    assert not any("proposed how you'll work" in s.message.plain_text() for s in h.to(mentee.user_id))

    reply = await h.click(mentor, proposal, "agree:confirm")
    assert isinstance(reply, Reply) and reply.replace_original and "Agreed with Person2" in text_of(reply)
    await h.core.dispatch()
    agreement, _, match = await stored(h)
    assert agreement is not None and agreement.confirmed_at is not None and match.cadence == "biweekly"
    told = h.last_to(mentee.user_id).message.plain_text()
    assert f"{mentor.name} confirmed your agreement" in told and "every two weeks" in told

    again = await h.click(mentor, proposal, "agree:confirm")
    assert "already confirmed" in text_of(again)


async def test_bad_forms_answer_on_the_form_and_change_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    form = await open_from_intro(h, mentee)
    cases = {
        " \n \n": ("goals", "Write at least one goal"),
        "a\nb\nc\nd": ("goals", "Three goals at most: pick the ones that matter most"),
        "fine\n" + "x" * 201: ("goals", "Goal 2 is 201 characters long"),
    }
    for goals, (field, expected) in cases.items():
        result = await h.submit(mentee, form, TERMS | {"goals": goals})
        assert isinstance(result, FormErrors) and expected in result.errors[field], result
    result = await h.submit(mentee, form, TERMS | {"cadence": "sometimes", "medium": "pigeon", "avoid": "y" * 501})
    assert isinstance(result, FormErrors) and set(result.errors) == {"cadence", "medium", "avoid"}
    await h.core.dispatch()
    agreement, goals, match = await stored(h)
    assert agreement is None and goals == [] and match.cadence is None
    assert not any("proposed" in s.message.plain_text() for s in h.to(mentor.user_id))


async def test_suggesting_changes_re_proposes_and_keeps_the_status_of_unchanged_goals(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    await h.submit(mentee, await open_from_intro(h, mentee), TERMS)
    await h.core.dispatch()
    first = proposal_to(h, mentor)
    await h.click(mentor, first, "agree:confirm")
    async with db.transaction() as s:
        goal = (await s.exec(select(Goal).where(Goal.position == 1))).one()
        goal.status = "on_track"

    form = await h.click(mentor, first, "agree:change")
    assert isinstance(form, OpenForm)
    fields = {f.field_id: f for f in form.form.fields}
    assert fields["goals"].initial == "Lead a design review\nSpeak at the guild meetup"  # pre-filled
    assert fields["cadence"].initial == ("biweekly",)
    await h.submit(
        mentor, form, TERMS | {"goals": "Lead a design review\nShip the mentoring guide", "cadence": "monthly"}
    )
    await h.core.dispatch()

    agreement, goals, match = await stored(h)
    assert agreement is not None and agreement.confirmed_at is None and agreement.cadence == "monthly"
    assert [(g.text, g.status) for g in goals] == [
        ("Lead a design review", "on_track"),
        ("Ship the mentoring guide", "not_started"),
    ]
    assert match.cadence == "biweekly"  # the last agreed cadence holds until the new one is confirmed
    counter = proposal_to(h, mentee)
    assert mentor.name in counter.message.plain_text() and "Ship the mentoring guide" in counter.message.plain_text()

    stale = await h.click(mentee, first, "agree:confirm")  # the first proposal's button: replaced since
    assert "replaced by a newer one" in text_of(stale)
    own = await h.click(mentor, counter, "agree:confirm")
    assert "You proposed this" in text_of(own)
    await h.click(mentee, counter, "agree:confirm")
    _, _, match = await stored(h)
    assert match.cadence == "monthly"


async def test_clicks_on_an_ended_match_or_someone_elses_change_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    intro = next(s for s in h.to(mentee.user_id) if "Agree how you'll work" in s.message.plain_text())
    stranger = h.actor("U9", "Stranger")
    await h.enrol(stranger)
    other = await h.click(stranger, intro, "agree:open")
    assert "belongs to another match" in text_of(other)

    form = await open_from_intro(h, mentee)
    async with db.transaction() as s:
        match = (await s.exec(select(Match))).one()
        match.status, match.end_reason = MatchStatus.ENDED.value, EndReason.REMATCH.value
    ended = await h.click(mentee, intro, "agree:open")
    assert "has ended" in text_of(ended) and mentor.name in text_of(ended)
    late = await h.submit(mentee, form, TERMS)
    assert "has ended" in text_of(late)
    agreement, goals, _ = await stored(h)
    assert agreement is None and goals == []
    assert "no live mentoring match" in text_of(await h.command(mentee, "agreement"))


async def test_agreement_command_picks_the_match_or_asks_which(db, start_time) -> None:  # noqa: ANN001
    from storage.tables import Membership

    h = Harness.create(db, start_time)
    admin, (mentor, first, second) = await program_with(h, 3, kind="mentoring", mentors=1)
    async with db.transaction() as s:
        (await s.exec(select(Membership).where(Membership.role == "mentor"))).one().capacity = 2
    await match_now(h, admin)

    single = await h.command(first, "agreement")
    assert isinstance(single, OpenForm) and mentor.name in single.form.intro
    several = text_of(await h.command(mentor, "agreement"))
    assert "several mentoring matches" in several and first.name in several and second.name in several
    picked = await h.command(
        mentor, f"agreement @{second.name}", mentions=(MentionRef(user_id=second.user_id, text=f"@{second.name}"),)
    )
    assert isinstance(picked, OpenForm) and second.name in picked.form.intro and first.name not in picked.form.intro
    await h.submit(mentor, picked, TERMS)
    await h.core.dispatch()
    assert any("proposed how you'll work" in s.message.plain_text() for s in h.to(second.user_id))
    assert not any("proposed how you'll work" in s.message.plain_text() for s in h.to(first.user_id))
    nobody = await h.command(mentor, "agreement @Admin", mentions=(MentionRef(user_id="UADMIN", text="@Admin"),))
    assert "no live mentoring match with @Admin" in text_of(nobody)


async def test_peer_intros_carry_no_agreement_button(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (a, _) = await program_with(h, 2, kind="peer")
    await match_now(h, admin)
    assert "Agree how you'll work" not in h.last_to(a.user_id).message.plain_text()


async def _run(h: Harness, days: float, hours: int = 6) -> None:
    for _ in range(int(days * 24 // hours)):
        h.clock.advance(timedelta(hours=hours))
        await h.core.tick()


def reminders(h: Harness, person) -> list[str]:  # noqa: ANN001
    return [s.message.plain_text() for s in h.to(person.user_id) if "have you agreed" in s.message.plain_text()]


async def test_two_gentle_reminders_then_silence(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    await _run(h, days=2.5)
    assert reminders(h, mentee) == []
    await _run(h, days=1)
    sent = reminders(h, mentee)
    assert len(sent) == 1 and "gentle reminder" in sent[0] and mentor.name in sent[0]
    await _run(h, days=4)
    sent = reminders(h, mentee)
    assert len(sent) == 2 and "last reminder" in sent[1]
    await _run(h, days=14)
    assert len(reminders(h, mentee)) == 2 and len(reminders(h, mentor)) == 2
    _, _, match = await stored(h)
    assert match.cadence is None  # nothing agreed: the program's cadence applies


async def test_no_reminder_once_agreed(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    await h.submit(mentee, await open_from_intro(h, mentee), TERMS)
    await h.core.dispatch()
    await h.click(mentor, proposal_to(h, mentor), "agree:confirm")
    await _run(h, days=10)
    assert reminders(h, mentee) == [] and reminders(h, mentor) == []


async def test_no_reminder_while_a_member_is_paused(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    await h.command(mentor, "pause 2w")
    await _run(h, days=10)
    assert reminders(h, mentee) == [] and reminders(h, mentor) == []
    agreement, _, _ = await stored(h)
    assert agreement is None


async def test_a_pending_proposal_still_gets_reminded_and_counts(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await mentoring_pair(h)
    await h.submit(mentee, await open_from_intro(h, mentee), TERMS)
    await _run(h, days=8)
    sent = reminders(h, mentor)
    assert len(sent) == 2 and "waiting for confirmation" in sent[0]
    agreement, _, _ = await stored(h)
    assert agreement is not None and agreement.reminded == 2
