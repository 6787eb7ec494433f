"""Every chat booked, and what happens after each: "how did it go?", we met, it didn't happen, recaps, the next chat."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from adapters.console.port import Sent
from bot.kernel.events import Actor, FormErrors, OpenForm
from bot.kernel.messages import Actions, Button
from storage.enums import EndReason, MatchStatus, MeetingState
from storage.tables import Match, Meeting, Membership, Recap, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import match_now, program_with, text_of


async def _run(h: Harness, days: float, hours: int = 6) -> None:
    for _ in range(int(days * 24 // hours)):
        h.clock.advance(timedelta(hours=hours))
        await h.core.tick()


def _has(sent: Sent, action_id: str) -> bool:
    return any(
        isinstance(e, Button) and e.action_id == action_id
        for b in sent.message.blocks
        if isinstance(b, Actions)
        for e in b.elements
    )


def _latest(h: Harness, person: Actor, action_id: str, about: str | None = None) -> Sent | None:
    for sent in reversed(h.to(person.user_id)):
        if _has(sent, action_id) and (about is None or about in sent.message.plain_text()):
            return sent
    return None


async def _book(h: Harness, proposer: Actor, accepter: Actor) -> None:
    """Propose the first offered time of the latest offer, and accept it."""
    offer = _latest(h, proposer, "book:propose", accepter.name)
    assert offer is not None
    values = [
        e.value
        for b in offer.message.blocks
        if isinstance(b, Actions)
        for e in b.elements
        if isinstance(e, Button) and e.action_id == "book:propose"
    ]
    for value in values:  # the first time still ahead
        reply = await h.click(proposer, offer, "book:propose", value=value)
        if "already passed" not in text_of(reply):
            break
    assert "You proposed" in text_of(reply), text_of(reply)
    await h.core.dispatch()
    proposal = _latest(h, accepter, "book:accept")
    assert proposal is not None
    assert "Booked" in text_of(await h.click(accepter, proposal, "book:accept"))
    await h.core.dispatch()


async def _pair(h: Harness, kind: str = "mentoring") -> tuple[Actor, Actor, Actor]:
    admin, (a, b) = await program_with(h, 2, kind=kind, mentors=1 if kind == "mentoring" else 0)
    await match_now(h, admin)
    return admin, a, b


async def _meetings(h: Harness) -> list[Meeting]:
    async with h.core.db.session() as s:
        return list((await s.exec(select(Meeting).order_by(col(Meeting.id)))).all())


async def _match(h: Harness) -> Match:
    async with h.core.db.session() as s:
        return (await s.exec(select(Match).order_by(col(Match.id)))).first()


def _channel(h: Harness) -> list[str]:
    return [s.message.plain_text() for s in h.port.sent if s.channel == "coffee"]


async def test_after_a_chat_the_pair_is_asked_once_and_the_first_we_met_counts_it(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _book(h, mentor, mentee)
    (booked,) = [m for m in await _meetings(h) if m.state == MeetingState.CONFIRMED.value]
    h.clock.advance(booked.end_at - timedelta(minutes=1) - h.clock.now())
    await h.core.tick()
    assert _latest(h, mentee, "chat:met") is None, "no question before the chat is over"
    await _run(h, days=3)
    asked = [s for s in h.to(mentee.user_id) if _has(s, "chat:met")]
    assert len(asked) == 1, "asked once, however many ticks pass"
    text = asked[0].message.plain_text()
    assert "How did your chat go" in text and mentor.name in text and mentee.name in text
    assert "[We met ✓] [It didn't happen] [Write a recap]" in text
    match = await _match(h)
    assert match.meetings_count == 0 and match.met_at is None, "a booked time passing is not a meeting"

    first = await h.click(mentee, asked[0], "chat:met")
    assert "chat number 1" in text_of(first) and mentor.name in text_of(first)
    again = await h.click(mentor, asked[0], "chat:met")
    assert "Already noted" in text_of(again)
    await h.core.dispatch()
    match = await _match(h)
    (meeting,) = [m for m in await _meetings(h) if m.state == MeetingState.CONFIRMED.value]
    assert match.meetings_count == 1 and match.status == MatchStatus.MET.value and match.met_at is not None
    assert meeting.held_at is not None and meeting.followed_up_at is not None
    assert sum("had their first chat" in t for t in _channel(h)) == 1


async def test_it_didnt_happen_offers_fresh_times_once_and_counts_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _book(h, mentor, mentee)
    await _run(h, days=3)
    asked = _latest(h, mentor, "chat:missed")
    assert asked is not None
    reply = await h.click(mentor, asked, "chat:missed")
    assert "fresh times" in text_of(reply)
    await h.core.dispatch()
    fresh = _latest(h, mentee, "book:propose")
    assert fresh is not None and "didn't happen" in fresh.message.plain_text()
    assert mentor.name in fresh.message.plain_text()
    before = await _meetings(h)
    assert "already on offer" in text_of(await h.click(mentee, asked, "chat:missed"))
    assert "called off" in text_of(await h.click(mentee, asked, "chat:met"))
    assert len(await _meetings(h)) == len(before)
    assert (await _match(h)).meetings_count == 0


async def test_a_recap_is_private_checked_and_its_action_items_come_back_before_the_next_chat(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _book(h, mentor, mentee)
    await _run(h, days=2)
    asked = _latest(h, mentee, "chat:recap")
    form = await h.click(mentee, asked, "chat:recap")
    assert isinstance(form, OpenForm) and "only the people in this match" in form.form.intro

    bad = [
        ({"text": "", "items": ""}, "text"),
        ({"text": "x" * 2001, "items": ""}, "text"),
        ({"text": "", "items": "\n".join(f"item {i}" for i in range(11))}, "items"),
        ({"text": "", "items": "fine\n" + "y" * 201}, "items"),
    ]
    for values, field in bad:
        result = await h.submit(mentee, form, values)
        assert isinstance(result, FormErrors) and field in result.errors, (values, result)
    async with db.session() as s:
        assert (await s.exec(select(Recap))).all() == []

    saved = await h.submit(
        mentee, form, {"text": "Talked about design reviews", "items": "Read the RFC\n\n- Draft a review plan\n"}
    )
    assert "private" in text_of(saved) and mentor.name in text_of(saved)
    async with db.session() as s:
        (recap,) = (await s.exec(select(Recap))).all()
    assert recap.action_items == ["Read the RFC", "Draft a review plan"] and recap.meeting_id is not None

    await h.click(mentee, asked, "chat:met")
    await _run(h, days=3)  # the next chat is offered at the weekly cadence (Friday), with the action items
    offer = _latest(h, mentor, "book:propose")
    assert offer is not None and "Time to book your next chat" in offer.message.plain_text()
    assert "Read the RFC" in offer.message.plain_text() and mentee.name in offer.message.plain_text()
    await _book(h, mentor, mentee)
    await _run(h, days=3, hours=1)
    reminders = [s for s in h.to(mentor.user_id) if "⏰" in s.message.plain_text()]
    assert len(reminders) == 1 and "From your last recap:**\n• Read the RFC\n• Draft a review plan" in (
        reminders[0].message.plain_text()
    )
    assert all(s.channel != "coffee" or "Read the RFC" not in s.message.plain_text() for s in h.port.sent)


async def test_a_weekly_mentor_with_two_mentees_has_a_chat_every_week_and_never_two_at_once(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, first, second) = await program_with(h, 3, kind="mentoring", mentors=1)
    async with db.transaction() as s:
        (await s.exec(select(Membership).where(Membership.role == "mentor"))).one().capacity = 2
    await match_now(h, admin)
    handled: set = set()
    for _ in range(8 * 7 * 2):  # eight weeks, twice a day: both pairs pick the first time and say they met
        for mentee in (first, second):
            offer = _latest(h, mentee, "book:propose", mentor.name)
            if offer is not None and offer.ref not in handled:
                handled.add(offer.ref)
                await _book(h, mentee, mentor)
            asked = _latest(h, mentee, "chat:met")
            if asked is not None and asked.ref not in handled:
                handled.add(asked.ref)
                await h.click(mentee, asked, "chat:met")
        await _run(h, days=0.5, hours=12)
    meetings = await _meetings(h)
    async with db.session() as s:
        matches = (await s.exec(select(Match).order_by(col(Match.id)))).all()
    assert len(matches) == 2
    for match in matches:
        held = [m for m in meetings if m.match_id == match.id and m.held_at is not None]
        assert len(held) >= 6, [(m.state, m.start_at) for m in meetings if m.match_id == match.id]
        assert match.meetings_count == len(held)
    booked = sorted((m.start_at, m.end_at) for m in meetings if m.state == MeetingState.CONFIRMED.value)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(booked, booked[1:], strict=False))


async def _first_chat_held(h: Harness, a: Actor, b: Actor) -> Meeting:
    """Book the intro's first time, let it pass, say "we met"; returns the held meeting."""
    await _book(h, a, b)
    await _run(h, days=0.25)
    asked = _latest(h, b, "chat:met")
    assert asked is not None
    await h.click(b, asked, "chat:met")
    await h.core.dispatch()
    return next(m for m in await _meetings(h) if m.held_at is not None)


def _next_offers(h: Harness, person: Actor) -> list[Sent]:
    return [s for s in h.to(person.user_id) if "Time to book your next chat" in s.message.plain_text()]


async def test_the_next_offer_is_nudged_once_when_nobody_picks_a_time(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _first_chat_held(h, mentor, mentee)
    await _run(h, days=5)
    assert len(_next_offers(h, mentor)) == 1
    await _run(h, days=4)  # nobody picks: one nudge, with fresh times, three days after the second offer
    second = [m for m in await _meetings(h) if m.state == MeetingState.OFFERED.value]
    assert len(second) == 1 and second[0].nudged_at is not None
    nudges = [s for s in h.to(mentee.user_id) if "Nobody has picked a time" in s.message.plain_text()]
    assert len(nudges) == 1 and _has(nudges[0], "book:propose")


async def test_the_pairs_agreed_cadence_sets_when_the_next_chat_is_offered(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    async with db.transaction() as s:
        (await s.exec(select(Match))).one().cadence = "biweekly"
    held = await _first_chat_held(h, mentor, mentee)
    await _run(h, days=10)
    assert _next_offers(h, mentor) == [], "every two weeks: nothing to book in the first ten days"
    await _run(h, days=2)
    (offer,) = _next_offers(h, mentor)
    assert "every two weeks, as you agreed" in offer.message.plain_text()
    (fresh,) = [m for m in await _meetings(h) if m.state == MeetingState.OFFERED.value]
    assert min(fresh.slots) >= (held.start_at + timedelta(days=13)).isoformat()


async def test_no_next_chat_while_someone_is_paused_or_once_the_match_ended(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _first_chat_held(h, mentor, mentee)
    async with db.transaction() as s:
        for membership in (await s.exec(select(Membership))).all():
            if membership.role == "mentee":
                membership.paused_until = h.clock.now() + timedelta(days=9)
    await _run(h, days=8)
    assert _next_offers(h, mentor) == []
    await _run(h, days=2)  # back from the pause: the next chat is offered
    assert len(_next_offers(h, mentor)) == 1

    # as it was before booking: booking closes its buttons (the console port updates messages in place)
    old_offer = dataclasses.replace(_latest(h, mentee, "book:propose"))
    await _book(h, mentor, mentee)
    await _run(h, days=2)
    asked = _latest(h, mentee, "chat:recap")
    assert asked is not None and len([s for s in h.to(mentee.user_id) if _has(s, "chat:recap")]) == 2
    async with db.transaction() as s:
        match = (await s.exec(select(Match))).one()
        match.status, match.end_reason = MatchStatus.ENDED.value, EndReason.REMATCH.value
    await _run(h, days=10)
    assert len(_next_offers(h, mentor)) == 1, "an ended match gets no offers"
    for action in ("chat:met", "chat:missed", "chat:recap"):
        reply = await h.click(mentee, asked, action)
        assert "This match has ended" in text_of(reply), action
    reply = await h.click(mentee, old_offer, "book:propose")
    assert "This match has ended" in text_of(reply)
    match = await _match(h)
    assert match.meetings_count == 1 and match.status == MatchStatus.ENDED.value


async def test_a_pair_at_the_end_of_its_track_is_offered_no_next_chat(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    async with db.transaction() as s:
        from storage.tables import Program

        (await s.exec(select(Program))).one().track_weeks = 1
    await match_now(h, admin)
    async with db.transaction() as s:
        (await s.exec(select(Match))).one().cadence = "biweekly"  # the next chat would fall after the track
    await _first_chat_held(h, mentor, mentee)
    await _run(h, days=14)
    assert _next_offers(h, mentor) == []


async def test_peer_groups_have_one_chat_per_round(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, (a, b) = await program_with(h, 2, kind="peer")
    h.clock.advance(timedelta(hours=2))  # the program's own round, Monday 10:00 Berlin
    await h.core.tick()
    await _first_chat_held(h, a, b)
    await _run(h, days=5)
    assert _next_offers(h, a) == [] and (await _match(h)).meetings_count == 1


def test_the_follow_up_and_the_recap_form_render_on_slack_and_teams() -> None:
    from adapters.slack import render
    from adapters.teams.cards import CardRenderer
    from adapters.teams.signing import CardSigner
    from bot.booking.followup import followup_message
    from bot.booking.recaps import recap_form

    ana = User(id=1, workspace_id=1, platform_user_id="UA", display_name="Ana", timezone="Europe/Berlin")
    ben = User(id=2, workspace_id=1, platform_user_id="UB", display_name="Ben", timezone="America/New_York")
    meeting = Meeting(id=7, match_id=1, start_at=datetime(2026, 3, 3, 9, tzinfo=UTC))
    message = followup_message(meeting, [ana, ben], None)
    blocks = render.render_blocks(message)
    assert "<@UA>" in blocks[0]["text"]["text"] and "<@UB>" in blocks[0]["text"]["text"]
    assert [e["action_id"] for e in blocks[1]["elements"]] == ["chat:met", "chat:missed", "chat:recap"]
    renderer = CardRenderer(CardSigner("s"))
    card = renderer.message_card(followup_message(meeting, [ana, ben], ben))
    (buttons,) = [b["actions"] for b in card["body"] if b["type"] == "ActionSet"]
    assert [(a["title"], a["verb"]) for a in buttons] == [
        ("We met ✓", "chat:met"),
        ("It didn't happen", "chat:missed"),
        ("Write a recap", "chat:recap"),
    ]
    assert "<at>Ana</at>" in json.dumps(card, ensure_ascii=False) and "Ben" not in card["body"][0]["text"]

    form = recap_form("7", "note", ["one", "two"])
    view = render.render_form(form)
    text, items = (b for b in view["blocks"] if b["type"] == "input")
    assert text["optional"] and text["element"]["multiline"] and text["element"]["max_length"] == 2000
    assert items["element"]["initial_value"] == "one\ntwo" and len(view["title"]["text"]) <= 24
    inputs = [b for b in renderer.form_card(form, ref="f1")["body"] if b["type"] == "Input.Text"]
    assert [i["id"] for i in inputs] == ["text", "items"] and all(i["isMultiline"] for i in inputs)
    assert all("isRequired" not in i or not i["isRequired"] for i in inputs)


async def test_without_group_chats_each_person_is_asked_about_the_others_by_name(db, start_time) -> None:  # noqa: ANN001
    from bot.kernel.port import PlatformCapabilities

    h = Harness.create(db, start_time)
    h.port.capabilities = PlatformCapabilities(group_conversations=False)
    _, mentor, mentee = await _pair(h)
    await _book(h, mentor, mentee)
    await _run(h, days=1)
    for person, other in ((mentor, mentee), (mentee, mentor)):
        (asked,) = [s for s in h.to(person.user_id) if _has(s, "chat:met")]
        assert asked.audience == (person.user_id,)
        assert f"How did your chat with {other.name} go?" in asked.message.plain_text()


async def test_yes_we_met_in_the_check_in_and_we_met_on_the_chat_count_one_chat(db, start_time) -> None:  # noqa: ANN001
    from tests.surveys.surveys_helpers import answer, survey_to

    h = Harness.create(db, start_time)
    _, mentor, mentee = await _pair(h)
    await _book(h, mentor, mentee)
    await _run(h, days=4)  # the chat happens, then the weekly check-in asks "did you meet?"
    await answer(h, mentee, survey_to(h, mentee.user_id, "Did you meet?"), "|yes")
    asked = _latest(h, mentor, "chat:met")
    assert asked is not None
    assert "Already noted" in text_of(await h.click(mentor, asked, "chat:met"))
    assert (await _match(h)).meetings_count == 1
