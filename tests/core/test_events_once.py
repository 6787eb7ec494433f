"""The core acts once per platform event id, survives unique-key races and takes each person's events in turn.

These rules used to live in the Slack and Teams adapters; here they are checked on the core alone, with
the console platform, on a real database (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

import bot.app.router as router
from bot.app.once import event_key, turns_of
from bot.kernel.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    FormSubmittedEvent,
    MemberJoinedEvent,
    NoReply,
    OpenForm,
    Place,
    Reply,
)
from storage.tables import Delivery, Membership, ProcessedEvent, Program, User, Workspace
from tests.core.harness import Harness

PROGRAM = {
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


async def count(h: Harness, model: Any, *where: Any) -> int:
    async with h.core.db.session() as s:
        return (await s.exec(select(func.count()).select_from(model).where(*where))).one()


async def with_program(db, start_time) -> Harness:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    return h


def command(h: Harness, user: str, text: str, event_id: str | None = None) -> CommandEvent:
    return CommandEvent(actor=h.actor(user), text=text, place=Place(channel_id="coffee"), event_id=event_id)


# --- once ----------------------------------------------------------------------------------------------


async def test_a_command_delivered_twice_runs_once(db, start_time) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    first = await h.core.handle(command(h, "U1", "join", event_id="Ev-1"))
    again = await h.core.handle(command(h, "U1", "join", event_id="Ev-1"))
    assert isinstance(first, Reply) and "You're in" in first.message.plain_text()
    assert isinstance(again, NoReply)  # not "You're already in": the retry did not run at all
    assert await count(h, Membership) == 1
    assert await count(h, ProcessedEvent, ProcessedEvent.key == "console:event:Ev-1") == 1
    fresh = await h.core.handle(command(h, "U1", "join", event_id="Ev-2"))  # a new delivery is a new event
    assert isinstance(fresh, Reply) and "already in" in fresh.message.plain_text()


async def test_a_double_click_acts_once(db, start_time) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    ana = h.actor("U1")
    await h.core.handle(MemberJoinedEvent(actor=ana, channel_id="coffee"))
    await h.core.dispatch()
    invite = h.last_to("U1")
    first = await h.click(ana, invite, "program:join", event_id="click-1")
    again = await h.click(ana, invite, "program:join", event_id="click-1")
    assert isinstance(first, Reply) and isinstance(again, NoReply)
    assert await count(h, ProcessedEvent, ProcessedEvent.key == "console:action:click-1") == 1


async def test_a_form_submitted_twice_is_saved_once(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", admin=True)
    form = await h.command(admin, "program create", "coffee")
    assert isinstance(form, OpenForm)
    submit = FormSubmittedEvent(
        actor=admin, form_id=form.form.form_id, values=PROGRAM, state=form.form.state, event_id="sub-1"
    )
    first, again = await h.core.handle(submit), await h.core.handle(submit)
    assert isinstance(first, Reply) and "Created" in first.message.plain_text()
    assert isinstance(again, NoReply)  # not "#coffee already runs 'Coffee'"
    assert await count(h, Program) == 1


async def test_a_member_joined_delivered_twice_invites_once(db, start_time) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    joined = MemberJoinedEvent(actor=h.actor("U1"), channel_id="coffee", event_id="Ev-join")
    await h.core.handle(joined)
    before = await count(h, Delivery)
    assert isinstance(await h.core.handle(joined), NoReply)
    assert await count(h, Delivery) == before
    assert await count(h, ProcessedEvent, ProcessedEvent.key == "console:event:Ev-join") == 1


async def test_a_failed_event_leaves_no_key_so_a_retry_runs(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    real = router.actor_row

    async def broken(*args: Any) -> Any:
        raise RuntimeError("the database went away mid-event")

    monkeypatch.setattr(router, "actor_row", broken)
    with pytest.raises(RuntimeError):
        await h.core.handle(command(h, "U1", "join", event_id="Ev-1"))
    assert await count(h, ProcessedEvent, ProcessedEvent.key == "console:event:Ev-1") == 0
    monkeypatch.setattr(router, "actor_row", real)
    retried = await h.core.handle(command(h, "U1", "join", event_id="Ev-1"))
    assert isinstance(retried, Reply) and "You're in" in retried.message.plain_text()


def test_keys_name_the_platform_and_kind_and_stay_within_the_column() -> None:
    who = Actor(platform="teams", workspace_id="tenant", user_id="29:x")
    assert event_key(CommandEvent(actor=who, text="help")) is None
    assert event_key(ActionEvent(actor=who, action_id="a", value="", event_id="1")) == "teams:action:1"
    assert event_key(FormSubmittedEvent(actor=who, form_id="f", values={}, event_id="1")) == "teams:form:1"
    long_a, long_b = (event_key(CommandEvent(actor=who, text="", event_id="x" * 300 + end)) for end in "ab")
    assert long_a and long_b and len(long_a) <= 255 and len(long_b) <= 255 and long_a != long_b


# --- races ---------------------------------------------------------------------------------------------


async def test_concurrent_first_events_of_a_new_person_on_two_servers_both_succeed(db, start_time) -> None:  # noqa: ANN001
    """Two servers share the database; each process has its own turns, so only the database keeps order."""
    one = await with_program(db, start_time)
    two = Harness.create(db, start_time)
    newcomer = one.actor("UNEW", "Nia")
    results = await asyncio.gather(
        one.core.handle(CommandEvent(actor=newcomer, text="join", place=Place(channel_id="coffee"), event_id="a")),
        two.core.handle(MemberJoinedEvent(actor=newcomer, channel_id="coffee", event_id="b")),
        two.core.handle(CommandEvent(actor=newcomer, text="status", event_id="c")),
    )
    assert not any(isinstance(r, BaseException) for r in results)
    assert await count(one, User, User.platform_user_id == "UNEW") == 1
    assert await count(one, Membership) == 1


async def test_a_lost_unique_key_race_is_run_again_in_a_fresh_transaction(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    """The first attempt inserts a key another transaction already holds (as a concurrent server would)."""
    h = await with_program(db, start_time)
    async with db.transaction() as session:
        session.add(ProcessedEvent(key="taken", at=start_time))
    real = router.actor_row
    attempts: list[int] = []

    async def losing_once(session, actor, now):  # noqa: ANN001, ANN202
        attempts.append(1)
        found = await real(session, actor, now)
        if len(attempts) == 1:
            session.add(ProcessedEvent(key="taken", at=now))
            await session.flush()  # the database refuses: unique key
        return found

    monkeypatch.setattr(router, "actor_row", losing_once)
    response = await h.core.handle(command(h, "U1", "join", event_id="Ev-race"))
    assert len(attempts) == 2
    assert isinstance(response, Reply) and "You're in" in response.message.plain_text()
    assert await count(h, ProcessedEvent, ProcessedEvent.key == "console:event:Ev-race") == 1
    assert await count(h, Membership) == 1


async def test_a_race_lost_every_time_or_a_real_error_is_not_hidden(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    async with db.transaction() as session:
        session.add(ProcessedEvent(key="taken", at=start_time))
    attempts: list[int] = []

    async def always_losing(session, actor, now):  # noqa: ANN001, ANN202
        attempts.append(1)
        session.add(ProcessedEvent(key="taken", at=now))
        await session.flush()

    monkeypatch.setattr(router, "actor_row", always_losing)
    with pytest.raises(IntegrityError):
        await h.core.handle(command(h, "U1", "join"))
    assert len(attempts) == 3  # tried, then twice more

    attempts.clear()

    async def buggy(session, actor, now):  # noqa: ANN001, ANN202
        attempts.append(1)
        raise ValueError("a bug, not a race")

    monkeypatch.setattr(router, "actor_row", buggy)
    with pytest.raises(ValueError):
        await h.core.handle(command(h, "U1", "join"))
    assert len(attempts) == 1
    assert len(turns_of(h.core)) == 0  # failed events give their turn back too


# --- turns ---------------------------------------------------------------------------------------------


async def test_one_persons_events_run_in_order_and_others_are_not_held_up(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    h = await with_program(db, start_time)
    for user in ("U1", "U2"):  # known people: the events below write nothing, so SQLite never makes them wait
        await h.core.handle(command(h, user, "help"))
    real = router.actor_row
    entered: list[str] = []
    first_inside = asyncio.Event()
    release = asyncio.Event()

    async def gated(session, actor, now):  # noqa: ANN001, ANN202
        entered.append(actor.user_id)
        if len(entered) == 1:
            first_inside.set()
            await release.wait()
        return await real(session, actor, now)

    monkeypatch.setattr(router, "actor_row", gated)
    first = asyncio.create_task(h.core.handle(command(h, "U1", "help")))
    await first_inside.wait()
    second = asyncio.create_task(h.core.handle(command(h, "U1", "help")))
    turns = turns_of(h.core)
    for _ in range(100):  # let the second event reach its place in the queue (cooperative, not timed)
        if turns.waiting(h.actor("U1")) == 2:
            break
        await asyncio.sleep(0)
    assert turns.waiting(h.actor("U1")) == 2
    assert isinstance(await h.core.handle(command(h, "U2", "help")), Reply)  # someone else goes ahead
    assert entered == ["U1", "U2"]  # U1's second event still waits for the first
    release.set()
    assert isinstance(await first, Reply) and isinstance(await second, Reply)
    assert entered == ["U1", "U2", "U1"]
    assert len(turns) == 0  # no lock left behind once nobody waits
    async with db.session() as s:
        assert len((await s.exec(select(Workspace))).all()) == 1
