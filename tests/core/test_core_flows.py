"""The core's main flows, driven through the console adapter on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlmodel import select

from bot.kernel.events import FormErrors, NoReply, OpenForm, Reply
from bot.kernel.messages import Actions, Button, GroupChatButton
from storage.enums import DeliveryState, MatchStatus, MeetingState
from storage.tables import Delivery, Match, Meeting, Membership, Program, SurveyAnswer, User
from tests.core.harness import Harness

PROFILE = {
    "skills_offered": "Python, SQL",
    "skills_wanted": "negotiation",
    "interests": "climbing, chess",
    "department": "Engineering",
    "timezone": "Europe/Berlin",
    "work_start": "09:00",
    "work_end": "17:00",
}


def text_of(response) -> str:  # noqa: ANN001
    assert isinstance(response, Reply), response
    return response.message.plain_text()


async def test_program_create_enrol_with_consent_and_profile(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    created = await h.create_program(admin)
    assert "Created" in text_of(created)

    ana = h.actor("U1", "Ana")
    from bot.kernel.events import MemberJoinedEvent

    await h.core.handle(MemberJoinedEvent(actor=ana, channel_id="coffee"))
    await h.core.dispatch()
    invite = h.last_to("U1")
    assert "Want in?" in invite.message.plain_text()
    async with db.session() as s:  # invited is not enrolled: no silent enrolment
        member = (await s.exec(select(Membership))).one()
        assert member.status == "invited"

    joined = await h.click(ana, invite, "program:join")
    assert isinstance(joined, Reply) and joined.replace_original

    form = await h.command(ana, "profile")
    assert isinstance(form, OpenForm)
    bad = await h.submit(ana, form, PROFILE | {"timezone": "Mars/Olympus", "work_start": "9am"})
    assert isinstance(bad, FormErrors)
    assert set(bad.errors) == {"timezone", "work_start"}
    async with db.session() as s:  # nothing was saved
        member = (await s.exec(select(Membership))).one()
        assert member.skills_offered == [] and member.status == "active"
    ok = await h.submit(ana, form, PROFILE)
    assert "Saved your profile" in text_of(ok)
    async with db.session() as s:
        member = (await s.exec(select(Membership))).one()
        user = (await s.exec(select(User).where(User.platform_user_id == "U1"))).one()
        assert member.skills_offered == ["Python", "SQL"] and user.timezone == "Europe/Berlin"


async def test_non_admin_is_refused_and_nothing_changes(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    sam = h.actor("U9", "Sam")
    for command in ("program create", "match now", "match preview", "stats", "program settings"):
        reply = await h.command(sam, command)
        assert "only program admins" in text_of(reply), command
    async with db.session() as s:
        assert len((await s.exec(select(Program))).all()) == 1
        assert (await s.exec(select(Match))).all() == []


async def test_unknown_command_suggests_the_closest(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    reply = await h.command(h.actor("U1"), "pasue 2w")
    assert "Did you mean" in text_of(reply) and "pause" in text_of(reply)
    reply = await h.command(h.actor("U1"), "pause next tuesday")
    assert "not a pause length" in text_of(reply)


async def _three_people(h: Harness) -> tuple:
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    people = [
        h.actor("U1", "Ana", "America/New_York"),
        h.actor("U2", "Ben", "Europe/Berlin"),
        h.actor("U3", "Chen", "Asia/Tokyo"),
    ]
    for person in people:
        await h.enrol(person, profile=PROFILE | {"timezone": person.timezone})
    return admin, people


async def test_match_now_introduces_everyone_with_reasons_and_times(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await _three_people(h)
    reply = await h.command(admin, "match now")
    assert "Matching a new round" in text_of(reply)
    await h.core.dispatch()
    intros = [s for s in h.port.sent if "matched in" in s.message.plain_text()]
    assert len(intros) == 1, "three people: one trio, nobody left out"
    intro = intros[0]
    assert sorted(intro.audience) == ["U1", "U2", "U3"]
    assert "Propose option 1" in intro.message.plain_text()
    async with db.session() as s:
        match = (await s.exec(select(Match))).one()
        assert match.conversation_id == intro.ref.conversation_id


async def test_booking_propose_accept_confirms_with_ics_and_double_click_is_one(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (ana, ben, chen) = await _three_people(h)
    await h.command(admin, "match now")
    await h.core.dispatch()
    intro = h.last_to("U1")
    first = await h.click(ana, intro, "book:propose", event_id="click-1")
    again = await h.click(ana, intro, "book:propose", event_id="click-1")
    assert isinstance(first, Reply) and isinstance(again, NoReply)
    await h.core.dispatch()
    proposals = [s for s in h.port.sent if "proposed a coffee chat" in s.message.plain_text()]
    assert len(proposals) == 1
    await h.click(ben, proposals[0], "book:accept")
    done = await h.click(chen, proposals[0], "book:accept")
    assert "Booked" in text_of(done)
    await h.core.dispatch()
    confirmations = [s for s in h.port.sent if "is booked" in s.message.plain_text()]
    assert len(confirmations) == 3
    ics = base64.b64decode(confirmations[0].message.files[0].content_b64).decode()
    assert "BEGIN:VEVENT" in ics and "DTSTART:" in ics
    links = [
        e
        for b in confirmations[0].message.blocks
        if isinstance(b, Actions)
        for e in b.elements
        if isinstance(e, Button) and e.url
    ]
    assert {b.label for b in links} == {"Google Calendar", "Outlook"}
    async with db.session() as s:
        meeting = (await s.exec(select(Meeting).where(Meeting.state == MeetingState.CONFIRMED.value))).one()
        assert meeting.reminder_at == meeting.start_at - timedelta(minutes=60)
        assert (await s.exec(select(Match))).one().status == MatchStatus.SCHEDULED.value


async def test_cant_make_it_reopens_the_choice(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (ana, ben, _) = await _three_people(h)
    await h.command(admin, "match now")
    await h.core.dispatch()
    await h.click(ana, h.last_to("U1"), "book:propose")
    await h.core.dispatch()
    proposal = h.last_to("U2")
    reply = await h.click(ben, proposal, "book:decline")
    assert "new times" in text_of(reply)
    await h.core.dispatch()
    assert "fresh options" in h.last_to("U1").message.plain_text()


async def test_paused_people_are_not_matched_and_are_told_when_back(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (ana, ben, chen) = await _three_people(h)
    reply = await h.command(chen, "pause 1w")
    assert "Paused until" in text_of(reply)
    await h.command(admin, "match now")
    await h.core.dispatch()
    intro = next(s for s in h.port.sent if "matched in" in s.message.plain_text())
    assert sorted(intro.audience) == ["U1", "U2"]
    h.clock.advance(timedelta(days=8))
    await h.core.tick()
    assert "Welcome back" in h.last_to("U3").message.plain_text()


async def test_survey_answers_are_stored_once_and_can_change(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (ana, _, _) = await _three_people(h)
    await h.command(admin, "match now")
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    survey = next(s for s in h.to("U1") if "Did you meet?" in s.message.plain_text())
    await h.click(
        ana,
        survey,
        "survey:answer",
        value=next(
            e.value
            for b in survey.message.blocks
            if isinstance(b, Actions)
            for e in b.elements
            if isinstance(e, Button) and e.value.endswith("|not_yet")
        ),
    )
    reply = await h.click(
        ana,
        survey,
        "survey:answer",
        value=next(
            e.value
            for b in survey.message.blocks
            if isinstance(b, Actions)
            for e in b.elements
            if isinstance(e, Button) and e.value.endswith("|yes")
        ),
    )
    assert isinstance(reply, Reply) and reply.replace_original and "✓ Yes" in reply.message.plain_text()
    async with db.session() as s:
        answers = (await s.exec(select(SurveyAnswer))).all()
        assert [(a.question_id, a.value) for a in answers] == [("met", "yes")]
        assert (await s.exec(select(Match))).one().status == MatchStatus.MET.value


async def test_outbox_is_idempotent_and_failures_are_kept(db, start_time) -> None:  # noqa: ANN001
    from bot.delivery.outbox import Outgoing, enqueue, to_user
    from bot.kernel.messages import text_message
    from bot.kernel.port import SendError
    from storage.tables import Workspace

    h = Harness.create(db, start_time)
    async with db.transaction() as s:
        ws = Workspace(platform="console", external_id="T-TEST", name="t")
        s.add(ws)
        await s.flush()
        item = Outgoing(key="k1", step="test", target=to_user("U1"), message=text_message("hello"))
        assert await enqueue(s, ws.id, [item, item], h.clock.now()) == 1
    async with db.transaction() as s:
        assert await enqueue(s, ws.id, [item], h.clock.now()) == 0
    h.port.fail_next = [SendError("boom", retryable=True, retry_after=30)]
    assert await h.core.dispatch() == 0
    async with db.session() as s:
        d = (await s.exec(select(Delivery))).one()
        assert d.state == DeliveryState.PENDING.value and d.last_error == "boom"
    assert await h.core.dispatch() == 0, "not due yet: backing off"
    h.clock.advance(timedelta(minutes=10))
    assert await h.core.dispatch() == 1
    assert len(h.port.sent) == 1
    async with db.transaction() as s:
        await enqueue(
            s, ws.id, [Outgoing(key="k2", step="test", target=to_user("U2"), message=text_message("x"))], h.clock.now()
        )
    h.port.fail_next = [SendError("user gone", gone=True)]
    await h.core.dispatch()
    async with db.session() as s:
        failed = (await s.exec(select(Delivery).where(Delivery.idempotency_key == "k2"))).one()
        assert failed.state == DeliveryState.FAILED.value and failed.last_error == "user gone"


async def test_platform_without_group_chats_gets_one_to_one_intros(db, start_time) -> None:  # noqa: ANN001
    from bot.kernel.port import PlatformCapabilities

    h = Harness.create(db, start_time)
    h.port.capabilities = PlatformCapabilities(group_conversations=False)
    admin, _ = await _three_people(h)
    await h.command(admin, "match now")
    await h.core.dispatch()
    intros = [s for s in h.port.sent if "You're matched with" in s.message.plain_text()]
    assert sorted(s.audience[0] for s in intros) == ["U1", "U2", "U3"]
    assert any(
        isinstance(e, GroupChatButton) for b in intros[0].message.blocks if isinstance(b, Actions) for e in b.elements
    )


async def test_concurrent_first_events_from_a_new_person_do_not_collide(db, start_time) -> None:  # noqa: ANN001
    import asyncio

    from bot.kernel.events import MemberJoinedEvent

    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    newcomer = h.actor("UNEW", "Nia")
    results = await asyncio.gather(
        h.command(newcomer, "status"),
        h.command(newcomer, "join"),
        h.core.handle(MemberJoinedEvent(actor=newcomer, channel_id="coffee")),
    )
    assert all(r is not None for r in results)
    async with db.session() as s:
        assert len((await s.exec(select(User).where(User.platform_user_id == "UNEW"))).all()) == 1
        assert len((await s.exec(select(Membership))).all()) == 1
