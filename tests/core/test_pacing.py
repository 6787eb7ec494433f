"""Quiet hours, the day's digest and the weekly cap, through the core with the console platform.

Messages are written to the outbox the way features write them (``enqueue`` with a step), then the real
sender runs at simulated times. Nothing of our own is faked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.delivery.outbox import Outgoing, enqueue, to_channel, to_user
from bot.delivery.quiet import Day
from bot.delivery.report import admin_delivery_lines
from bot.kernel.events import FormErrors, OpenForm, Reply
from bot.kernel.messages import Actions, Message, Section, Text, text_message
from bot.programs.buttons import JOIN, ProgramRef
from storage.database import Database
from storage.enums import DeliveryState, HoldReason
from storage.tables import Delivery, Program, User, Workspace
from tests.core.harness import Harness

BERLIN = "Europe/Berlin"
MONDAY_NIGHT = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
MONDAY_NOON = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


async def _setup(h: Harness, cap: str = "4") -> tuple[int, int]:
    """A program and one participant, Ada (Berlin); returns the workspace and program ids."""
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, weekly_cap=cap)
    await h.command(h.actor("UADA", "Ada"), "help")
    async with h.core.db.session() as session:
        workspace = (await session.exec(select(Workspace))).one()
        program = (await session.exec(select(Program))).one()
        return workspace.id or 0, program.id or 0


async def _write(h: Harness, workspace_id: int, program_id: int, *items: tuple[str, str, str]) -> None:
    """(key, step, text) messages to Ada, written now."""
    async with h.core.db.transaction() as session:
        await enqueue(
            session,
            workspace_id,
            [
                Outgoing(key=k, step=step, target=to_user("UADA"), message=text_message(text), program_id=program_id)
                for k, step, text in items
            ],
            h.clock.now(),
        )


async def _rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())


def _texts(h: Harness, user_id: str = "UADA") -> list[str]:
    return [s.message.plain_text() for s in h.to(user_id)]


async def test_what_can_wait_is_held_for_the_readers_morning_and_sent_in_order(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h)
    h.clock.set(MONDAY_NIGHT)
    await _write(h, workspace_id, program_id, ("a", "booking", "Bo proposed Tue 10:00"))
    await _write(h, workspace_id, program_id, ("b", "match_ended", "Bo has left"))
    await _write(h, workspace_id, program_id, ("c", "reminder", "Your chat starts in an hour"))
    async with h.core.db.transaction() as session:
        await enqueue(
            session,
            workspace_id,
            [Outgoing("d", "icebreaker", to_channel("coffee"), text_message("Q?"))],
            h.clock.now(),
        )
    sent_before = len(h.port.sent)

    await h.core.dispatch()

    fresh = h.port.sent[sent_before:]
    assert [s.message.plain_text() for s in fresh] == ["Your chat starts in an hour", "Q?"], "only what cannot wait"
    held = [d for d in await _rows(db) if d.idempotency_key in ("a", "b")]
    morning = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Berlin
    assert all(d.held_reason == HoldReason.QUIET_HOURS.value and d.next_attempt_at == morning for d in held)
    async with db.session() as session:
        program = (await session.exec(select(Program))).one()
        lines = await admin_delivery_lines(session, [program])
    assert any("2 held for their readers' quiet hours" in line for line in lines), lines

    h.clock.set(morning)
    await h.core.dispatch()
    last = h.port.sent[-1]
    assert last.audience == ("UADA",) and last.at == morning
    assert "Bo proposed Tue 10:00" in last.message.plain_text().split("Bo has left")[0], "one digest, in order"


async def test_a_weekend_waits_for_monday_and_a_person_can_choose_their_own_day(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h)
    ada = h.actor("UADA", "Ada")
    await h.enrol(ada)
    form = await h.command(ada, "profile")
    assert isinstance(form, OpenForm)
    bad = await h.submit(ada, form, {"timezone": BERLIN, "quiet_day": "25:00-07:00", "quiet_weekend": "fri, sat"})
    assert isinstance(bad, FormErrors) and "25:00" in bad.errors["quiet_day"]
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.platform_user_id == "UADA"))).one()
        assert (user.day_start, user.day_end, user.weekend) == ("08:00", "20:00", [5, 6]), "a bad form changes nothing"
    ok = await h.submit(ada, form, {"timezone": BERLIN, "quiet_day": "07:00-19:00", "quiet_weekend": "fri, sat"})
    assert not isinstance(ok, FormErrors), ok

    friday_noon = datetime(2026, 3, 6, 11, 0, tzinfo=UTC)
    h.clock.set(friday_noon)
    await _write(h, workspace_id, program_id, ("w", "booking", "Bo accepted"))
    await h.core.dispatch()
    assert "Bo accepted" not in _texts(h)[-1]
    (row,) = [d for d in await _rows(db) if d.idempotency_key == "w"]
    assert row.next_attempt_at == datetime(2026, 3, 8, 6, 0, tzinfo=UTC), "Sunday 07:00 in Berlin: her own week"


async def test_a_digest_carries_each_part_with_working_buttons_and_marks_each_sent_once(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h)
    invite = Message(
        summary="Join?",
        blocks=(
            Section(text=Text.of("Join Coffee?")),
            Actions(elements=(JOIN.button("Join", ProgramRef(program_id)),)),
        ),
    )
    h.clock.set(MONDAY_NIGHT)
    async with h.core.db.transaction() as session:
        items = [
            Outgoing("p1", "prompt", to_user("UADA"), text_message("This week: talk about books"), program_id),
            Outgoing("p2", "import_invite", to_user("UADA"), invite, program_id),
            Outgoing("p3", "survey:pulse", to_user("UADA"), text_message("How is it going?"), program_id),
        ]
        await enqueue(session, workspace_id, items, h.clock.now())
    await h.core.dispatch()
    h.clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    before = len(h.port.sent)
    await h.core.dispatch()
    await h.core.dispatch()  # a second pass (or a second server) finds nothing left to send

    (digest,) = h.port.sent[before:]
    text = digest.message.plain_text()
    assert text.index("talk about books") < text.index("Join Coffee?") < text.index("How is it going?")
    rows = {d.idempotency_key: d for d in await _rows(db)}
    parts = [rows["p1"], rows["p2"], rows["p3"]]
    assert all(p.state == DeliveryState.SENT.value for p in parts)
    assert {p.platform_message_id for p in parts} == {digest.ref.message_id}
    bundle = rows[f"day_digest:{rows['p1'].id}"]
    assert bundle.state == DeliveryState.SENT.value and bundle.counted_at is not None, "counts once for the cap"

    response = await h.click(h.actor("UADA", "Ada"), digest, JOIN.action_id)
    assert isinstance(response, Reply) and response.replace_original
    after = response.message.plain_text()
    assert "talk about books" in after and "How is it going?" in after, "only the clicked part changes"
    assert "Join Coffee?" not in after


async def test_the_weekly_cap_waits_or_drops_by_priority_and_the_admin_sees_it(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h, cap="2")
    for day in range(4):  # Monday to Thursday, one unprompted message a day
        h.clock.set(MONDAY_NOON + timedelta(days=day))
        step = "prompt" if day == 3 else "survey:pulse"
        await _write(h, workspace_id, program_id, (f"u{day}", step, f"nudge {day}"))
        await h.core.dispatch()
    assert [t for t in _texts(h) if t.startswith("nudge")] == ["nudge 0", "nudge 1"]
    rows = {d.idempotency_key: d for d in await _rows(db)}
    assert rows["u2"].held_reason == HoldReason.WEEKLY_CAP.value
    assert Day.of(BERLIN, "08:00", "20:00", None).local_date(rows["u2"].next_attempt_at).isoformat() == "2026-03-09"
    assert rows["u3"].state == DeliveryState.CANCELLED.value, "a week-old prompt is not worth sending"
    async with db.session() as session:
        program = (await session.exec(select(Program))).one()
        lines = await admin_delivery_lines(session, [program])
    assert any("1 waiting for room under the weekly cap" in li and "1 dropped" in li for li in lines), lines

    h.clock.set(datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    await h.core.dispatch()
    assert _texts(h)[-1] == "nudge 2", "it waited for her next week"


async def test_two_unprompted_messages_on_one_day_come_as_one(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h)
    await _write(h, workspace_id, program_id, ("x", "prompt", "A prompt"))
    await h.core.dispatch()
    h.clock.set(MONDAY_NOON + timedelta(hours=3))
    await _write(h, workspace_id, program_id, ("y", "survey:pulse", "A survey"))
    await h.core.dispatch()
    assert _texts(h)[-1] == "A prompt", "the second unprompted message of the day waits"
    h.clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    await h.core.dispatch()
    assert _texts(h)[-1] == "A survey"


async def test_bad_program_cap_gets_a_clear_answer_and_changes_nothing(db: Database) -> None:
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    response = await h.create_program(admin, weekly_cap="-1")
    assert isinstance(response, FormErrors)
    assert response.errors["weekly_cap"] == "The weekly cap is a whole number of messages from 1 to 21."
    async with db.session() as session:
        assert (await session.exec(select(Program))).first() is None


async def test_a_long_queue_is_paced_in_chunks_and_nothing_slips_out_at_night(db: Database, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("bot.delivery.pacing.PACE_LIMIT", 2)
    h = Harness.create(db, MONDAY_NOON, pacing=True)
    workspace_id, program_id = await _setup(h)
    h.clock.set(MONDAY_NIGHT)
    await _write(h, workspace_id, program_id, *[(f"q{n}", "booking", f"note {n}") for n in range(5)])
    before = len(h.port.sent)
    await h.core.dispatch()
    assert h.port.sent[before:] == []
    held = [d for d in await _rows(db) if d.idempotency_key.startswith("q")]
    assert len(held) == 5 and all(d.held_reason == HoldReason.QUIET_HOURS.value for d in held)
