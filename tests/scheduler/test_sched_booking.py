"""Coffee-chat booking across UTC−8, UTC+1 and UTC+9, with and without shared working hours."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.booking.slots import Availability, find_slots
from bot.kernel.events import ActionEvent, FormErrors, OpenForm, Reply
from bot.kernel.messages import Actions, Button
from bot.kernel.timeutil import parse_hhmm, show, zone
from storage.enums import MatchStatus, MeetingState
from storage.tables import Match, Meeting, Program
from tests.core.harness import Harness

AFTER = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)  # Monday, winter: LA is UTC−8, Berlin UTC+1, Tokyo UTC+9
LA = Availability("America/Los_Angeles", "07:00", "15:00")  # 15:00–23:00 UTC
BERLIN = Availability("Europe/Berlin", "09:00", "17:00")  # 08:00–16:00 UTC
TOKYO_NIGHT = Availability("Asia/Tokyo", "22:00", "06:00")  # 13:00–21:00 UTC: all three share 15:00–16:00 UTC
TOKYO_DAY = Availability("Asia/Tokyo", "09:00", "17:00")  # 00:00–08:00 UTC: no time suits all three


def text_of(response: object) -> str:
    return response.message.plain_text() if isinstance(response, Reply) else str(response)


def _inside(person: Availability, start: datetime, minutes: int) -> bool:
    """Is [start, start + minutes) inside the person's working hours on their own local day?"""
    local = start.astimezone(zone(person.timezone))
    begin = datetime.combine(local.date(), parse_hhmm(person.work_start), local.tzinfo)
    end = datetime.combine(local.date(), parse_hhmm(person.work_end), local.tzinfo)
    windows = [(begin, end)] if end > begin else [(begin, end + timedelta(days=1)), (begin - timedelta(days=1), end)]
    return any(b <= local and local + timedelta(minutes=minutes) <= e for b, e in windows)


def _workday(person: Availability, start: datetime, holidays: frozenset[date] = frozenset()) -> bool:
    local = start.astimezone(zone(person.timezone)).date()
    return local.weekday() < 5 and local not in holidays


def test_three_slots_inside_everyones_hours_on_their_working_days() -> None:
    people = [LA, BERLIN, TOKYO_NIGHT]
    plan = find_slots(people, AFTER, length_minutes=45)
    assert plan.shared and len(plan.starts) == 3
    assert len({s.date() for s in plan.starts}) == 3, "spread over different days"
    for start in plan.starts:
        assert all(_inside(p, start, 45) for p in people), start
        assert all(_workday(p, start) for p in people), "a weekend somewhere is skipped"
        assert AFTER < start < AFTER + timedelta(days=12)
    assert plan.minutes_outside == (0, 0, 0)


def test_holidays_and_tokyo_weekend_are_skipped() -> None:
    people = [LA, BERLIN, TOKYO_NIGHT]
    first = find_slots(people, AFTER).starts
    holidays = frozenset({first[0].astimezone(zone("Europe/Berlin")).date()})
    again = find_slots(people, AFTER, holidays=holidays, count=5).starts
    assert all(_workday(p, s, holidays) for s in again for p in people)
    friday_15_utc = datetime(2026, 1, 16, 15, 0, tzinfo=UTC)  # Friday in LA and Berlin, Saturday 00:00 in Tokyo
    assert friday_15_utc not in find_slots(people, AFTER, count=10).starts


def test_no_overlap_offers_the_least_bad_times() -> None:
    people = [LA, BERLIN, TOKYO_DAY]
    plan = find_slots(people, AFTER)
    assert not plan.shared and len(plan.starts) == 3
    assert all(m > 0 for m in plan.minutes_outside)
    worst_possible = sorted(find_slots(people, AFTER, count=200).minutes_outside)[-1]
    assert max(plan.minutes_outside) <= worst_possible


async def _three_zones(h: Harness, tokyo_hours: tuple[str, str], **program: str) -> tuple:
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, **program)
    people = [
        h.actor("U1", "Ana", "America/Los_Angeles"),
        h.actor("U2", "Ben", "Europe/Berlin"),
        h.actor("U3", "Chen", "Asia/Tokyo"),
    ]
    hours = {"U1": ("07:00", "15:00"), "U2": ("09:00", "17:00"), "U3": tokyo_hours}
    for person in people:
        start, end = hours[person.user_id]
        await h.enrol(person, profile={"timezone": person.timezone, "work_start": start, "work_end": end})
    await h.command(admin, "match now")
    await h.core.dispatch()
    return admin, people


async def test_book_across_three_zones_confirm_in_own_zone_and_remind(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    admin, (ana, ben, chen) = await _three_zones(h, ("22:00", "06:00"), meeting_minutes="45", reminder_minutes="30")
    intro = h.last_to("U1")
    text = intro.message.plain_text()
    assert "fit everyone's working hours" in text
    assert "for Ana (America/Los_Angeles)" in text and "for Chen (Asia/Tokyo)" in text
    await h.click(ana, intro, "book:propose", value=None)
    await h.core.dispatch()
    proposal = h.last_to("U2")
    await h.click(ben, proposal, "book:accept")
    await h.click(chen, proposal, "book:accept")
    await h.core.dispatch()
    async with db.session() as s:
        meeting = (await s.exec(select(Meeting).where(Meeting.state == MeetingState.CONFIRMED.value))).one()
    start = meeting.start_at
    assert meeting.end_at - start == timedelta(minutes=45)
    for person in (ana, ben, chen):
        confirmation = next(s for s in h.to(person.user_id) if "is booked" in s.message.plain_text())
        body = confirmation.message.plain_text()
        assert show(start, person.timezone) in body and "(45 min)" in body and "30 minutes before" in body
        ics = base64.b64decode(confirmation.message.files[0].content_b64).decode()
        assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in ics
        links = {
            e.label
            for b in confirmation.message.blocks
            if isinstance(b, Actions)
            for e in b.elements
            if isinstance(e, Button) and e.url
        }
        assert links == {"Google Calendar", "Outlook"}
    h.clock.set(start - timedelta(minutes=31))
    await h.core.tick()
    assert not any("starts at" in s.message.plain_text() for s in h.port.sent), "not yet"
    h.clock.set(start - timedelta(minutes=30))
    await h.core.tick()
    await h.core.tick()
    reminders = [s for s in h.port.sent if "starts at" in s.message.plain_text()]
    assert sorted(r.audience[0] for r in reminders) == ["U1", "U2", "U3"], "once each"
    for r in reminders:
        tz = {"U1": ana, "U2": ben, "U3": chen}[r.audience[0]].timezone
        assert show(start, tz) in r.message.plain_text()


async def test_cant_make_it_reopens_and_cancels_the_reminder(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    _, (ana, ben, chen) = await _three_zones(h, ("22:00", "06:00"))
    await h.click(ana, h.last_to("U1"), "book:propose")
    await h.core.dispatch()
    proposal = h.last_to("U2")
    await h.click(ben, proposal, "book:accept")
    await h.click(chen, proposal, "book:accept")
    await h.core.dispatch()
    confirmation = next(s for s in h.to("U3") if "is booked" in s.message.plain_text())
    await h.click(chen, confirmation, "book:decline")
    await h.core.dispatch()
    assert "fresh options" in h.last_to("U1").message.plain_text()
    async with db.session() as s:
        states = sorted(m.state for m in (await s.exec(select(Meeting))).all())
        assert states == [MeetingState.CANCELLED.value, MeetingState.OFFERED.value]
        assert (await s.exec(select(Match))).one().status == MatchStatus.INTRODUCED.value
    h.clock.advance(timedelta(days=10))
    await h.core.tick()
    assert not any("starts at" in s.message.plain_text() for s in h.port.sent)


async def test_no_overlap_says_so_and_suggests_async(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    await _three_zones(h, ("09:00", "17:00"))
    text = h.last_to("U3").message.plain_text()
    assert "don't overlap" in text and "start asynchronously" in text and "Option 3" in text


async def test_admin_sets_length_reminder_and_holidays_with_inline_errors(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    form = await h.command(admin, "program settings")
    assert isinstance(form, OpenForm)
    assert {f.field_id for f in form.form.fields} >= {"meeting_minutes", "reminder_minutes", "holidays"}
    base = {
        "name": "Coffee",
        "channel": "coffee",
        "kind": "peer",
        "cadence": "weekly",
        "weekday": "monday",
        "time": "10:00",
        "timezone": "Europe/Berlin",
        "group_size": "2",
        "enrolment": "opt_in",
    }
    bad = await h.submit(
        admin, form, base | {"meeting_minutes": "5", "reminder_minutes": "soon", "holidays": "2026-12-24, Christmas"}
    )
    assert isinstance(bad, FormErrors)
    assert set(bad.errors) == {"meeting_minutes", "reminder_minutes", "holidays"}
    assert "'Christmas' is not a date" in bad.errors["holidays"]
    async with db.session() as s:
        assert (await s.exec(select(Program))).one().holidays == []
    await h.submit(
        admin,
        form,
        base | {"meeting_minutes": "45", "reminder_minutes": "15", "holidays": "2026-12-25; 2026-12-24 2026-12-25"},
    )
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        assert (program.meeting_minutes, program.reminder_minutes) == (45, 15)
        assert program.holidays == ["2026-12-24", "2026-12-25"]
    again = await h.command(admin, "program settings")
    initial = {f.field_id: getattr(f, "initial", None) for f in again.form.fields}
    assert initial["holidays"] == "2026-12-24, 2026-12-25" and initial["meeting_minutes"] == "45"


def _nudges(h: Harness) -> list:
    return [s for s in h.port.sent if "Nobody has picked a time" in s.message.plain_text()]


async def test_a_group_that_picks_no_time_gets_one_nudge_with_fresh_times(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    _, (ana, ben, _chen) = await _three_zones(h, ("22:00", "06:00"))
    intro = h.last_to("U1")
    async with db.session() as s:
        offered = (await s.exec(select(Meeting))).one()
    h.clock.set(offered.created_at + timedelta(days=3) - timedelta(minutes=1))
    await h.core.tick()
    assert _nudges(h) == [], "not before three days"
    h.clock.set(offered.created_at + timedelta(days=3))
    await h.core.tick()
    await h.core.tick()
    nudges = _nudges(h)
    assert len(nudges) == 1 and sorted(nudges[0].audience) == ["U1", "U2", "U3"], "once, to the whole group"
    values = [e.value for b in nudges[0].message.blocks if isinstance(b, Actions) for e in b.elements]
    assert values == [f"{offered.id}|{i}" for i in range(3, 3 + len(values))] and values, "new options, new indexes"
    async with db.session() as s:
        meeting = (await s.exec(select(Meeting))).one()
    assert all(datetime.fromisoformat(x) > h.clock.now() for x in meeting.slots[3:])
    past = [i for i, x in enumerate(meeting.slots[:3]) if datetime.fromisoformat(x) <= h.clock.now()]
    assert past, "the first offer's earliest time is behind us by now"
    stale = await h.click(ana, intro, "book:propose", value=f"{offered.id}|{past[0]}")
    assert "already passed" in stale.message.plain_text()
    await h.click(ben, nudges[0], "book:propose", value=values[0])
    await h.core.dispatch()
    assert "proposed a coffee chat" in h.last_to("U3").message.plain_text()
    h.clock.advance(timedelta(days=3))
    await h.core.tick()
    assert len(_nudges(h)) == 1, "never a second nudge for the same offer"


async def test_no_nudge_once_a_time_is_proposed(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    _, (ana, _ben, _chen) = await _three_zones(h, ("22:00", "06:00"))
    await h.click(ana, h.last_to("U1"), "book:propose")
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    assert _nudges(h) == []


async def test_no_nudge_while_someone_in_the_group_is_away(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    _, (_ana, ben, _chen) = await _three_zones(h, ("22:00", "06:00"))
    await h.command(ben, "pause until 2026-01-30")
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    assert _nudges(h) == []
    async with db.session() as s:
        assert (await s.exec(select(Meeting))).one().nudged_at is not None, "decided once, not on every tick"


async def test_old_buttons_after_new_times_were_offered_say_so(db) -> None:  # noqa: ANN001
    h = Harness.create(db, AFTER)
    _, (ana, ben, chen) = await _three_zones(h, ("22:00", "06:00"))
    intro = h.last_to("U1")
    await h.click(ana, intro, "book:propose")
    await h.core.dispatch()
    await h.click(chen, h.last_to("U3"), "book:decline")
    await h.core.dispatch()
    again = await h.click(ben, intro, "book:propose")
    assert "replaced by newer ones" in again.message.plain_text()


async def test_a_propose_button_sent_before_the_upgrade_still_works(db) -> None:  # noqa: ANN001
    """Buttons already in people's chats carry the old "meeting:slot" value; clicking one still proposes."""
    h = Harness.create(db, AFTER)
    _, (ana, _ben, _chen) = await _three_zones(h, ("22:00", "06:00"))
    async with db.session() as s:
        offered = (await s.exec(select(Meeting))).one()
    reply = await h.core.handle(ActionEvent(actor=ana, action_id="book:propose", value=f"{offered.id}:1"))
    assert "damaged" not in text_of(reply)
    async with db.session() as s:
        meeting = (await s.exec(select(Meeting))).one()
    assert meeting.start_at is not None
    chosen = datetime.fromisoformat(offered.slots[1]).astimezone(UTC).replace(tzinfo=None)
    assert meeting.start_at.replace(tzinfo=None) == chosen, "the second option, as the old button said"
    await h.core.dispatch()
    assert "proposed a coffee chat" in h.last_to("U2").message.plain_text()
