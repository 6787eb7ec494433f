"""The core's one rule for people found in a program's channel, and its background sync on the console port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.kernel.events import FormSubmittedEvent, MemberJoinedEvent
from bot.kernel.port import UserInfo
from bot.programs.reach import Reach, decide
from storage.enums import MembershipStatus, SyncState
from storage.tables import ChannelSync, Membership, Program, User
from tests.core.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("enrolment", "status", "arrived", "expected"),
    [
        ("opt_in", None, False, Reach.INVITE),
        ("opt_out", None, False, Reach.ENROL),
        ("opt_in", "active", False, None),
        ("opt_out", "active", False, None),
        ("opt_in", "invited", False, None),  # asked already
        ("opt_out", "invited", False, None),
        ("opt_in", "left", False, Reach.INVITE),
        ("opt_out", "left", False, Reach.INVITE),  # who left is only asked, never enrolled again
        ("opt_out", "left", True, Reach.ENROL),  # ... unless they join the channel again themselves
        ("opt_in", "invited", True, Reach.INVITE),  # joining the channel again is a fresh welcome
        ("opt_out", "active", True, None),
    ],
)
def test_the_rule_for_someone_found_in_the_channel(
    enrolment: str, status: str | None, arrived: bool, expected: Reach | None
) -> None:
    program = Program(workspace_id=1, name="Coffee", channel_id="coffee", kind="peer", enrolment=enrolment)
    existing = Membership(program_id=1, user_id=1, status=status) if status else None
    assert decide(program, existing, arrived=arrived) == expected


async def _memberships(h: Harness) -> dict[str, str]:
    async with h.core.db.session() as s:
        rows = (await s.exec(select(Membership))).all()
        users = {u.id: u.platform_user_id for u in (await s.exec(select(User))).all()}
    return {users[m.user_id]: m.status for m in rows}


async def test_an_opt_out_sync_enrols_newcomers_invites_leavers_and_leaves_members_alone(db) -> None:  # noqa: ANN001
    h = Harness.create(db, START)
    admin = h.actor("UADMIN", admin=True)
    h.port.channels["coffee"] = [UserInfo(user_id=u, name=u) for u in ("UADMIN", "U1", "U2", "ULEFT", "UIN")]
    await h.create_program(admin, enrolment="opt_out")
    for person in ("ULEFT", "UIN"):  # they were here first: joined the channel, so were enrolled and told
        await h.core.handle(MemberJoinedEvent(actor=h.actor(person), channel_id="coffee"))
    await h.command(h.actor("ULEFT"), "leave", "coffee")
    await h.core.dispatch()
    before = len(h.port.sent)

    await h.core.tick()

    assert await _memberships(h) == {
        "UADMIN": MembershipStatus.ACTIVE.value,
        "U1": MembershipStatus.ACTIVE.value,
        "U2": MembershipStatus.ACTIVE.value,
        "ULEFT": MembershipStatus.LEFT.value,  # asked, not enrolled
        "UIN": MembershipStatus.ACTIVE.value,
    }
    new = h.port.sent[before:]
    assert sorted(a for s in new for a in s.audience) == ["U1", "U2", "UADMIN", "ULEFT"]
    assert "Join" in str(h.last_to("ULEFT").message) and "Leave the program" in str(h.last_to("U1").message)
    async with h.core.db.session() as s:
        [sync] = (await s.exec(select(ChannelSync))).all()
    assert (sync.state, sync.enrolled, sync.invited, sync.unchanged) == (SyncState.DONE.value, 3, 1, 1)
    status = str(await h.command(admin, "status", "coffee"))
    assert "reached all 5 people in #coffee: 1 invited, 3 enrolled, 1 already in or asked" in status
    stats = str(await h.command(admin, "stats", "coffee"))
    assert "People in the channel: reached all 5 people in #coffee" in stats
    h.clock.advance(timedelta(days=8))
    assert "reached all" not in str(await h.command(admin, "status", "coffee"))  # a week later it's history


async def test_moving_a_program_to_another_channel_reaches_the_people_there(db) -> None:  # noqa: ANN001
    h = Harness.create(db, START)
    admin = h.actor("UADMIN", admin=True)
    h.port.channels["lunch"] = [UserInfo(user_id="U7", name="Seven")]
    await h.create_program(admin)
    form = await h.command(admin, "program settings", "coffee")
    values = {"name": "Coffee", "channel": "lunch", "kind": "peer", "enrolment": "opt_in", "timezone": "UTC"}
    answer = await h.core.handle(
        FormSubmittedEvent(actor=admin, form_id=form.form.form_id, values=values, state=form.form.state)  # type: ignore[union-attr]
    )
    assert "Everyone in the channel gets an invitation" in str(answer)
    async with h.core.db.session() as s:
        syncs = (await s.exec(select(ChannelSync).order_by(ChannelSync.id))).all()  # type: ignore[arg-type]
    assert [(x.channel_id, x.state, x.reason) for x in syncs] == [
        ("coffee", SyncState.FAILED.value, "created"),  # stopped: the program moved before it ran
        ("lunch", SyncState.PENDING.value, "channel_changed"),
    ]
    await h.core.tick()
    assert "now runs" in str(h.last_to("U7").message)


async def test_a_server_syncs_channels_in_a_loop_of_its_own_not_in_the_scheduler_tick(db) -> None:  # noqa: ANN001
    """A long member listing must not hold up scheduled steps: the server's tick leaves syncs to their loop."""
    import asyncio

    from tandem.server import channel_sync_loop

    h = Harness.create(db, START)
    admin = h.actor("UADMIN", admin=True)
    h.port.channels["coffee"] = [UserInfo(user_id=u, name=u) for u in ("UADMIN", "U1", "U2")]
    await h.create_program(admin)
    await h.core.tick(channel_syncs=False)
    async with h.core.db.session() as s:
        assert (await s.exec(select(ChannelSync))).one().state != SyncState.DONE.value
    stop = asyncio.Event()
    stop.set()  # one pass, then the loop sees stop and ends
    await channel_sync_loop(h.core, stop)
    async with h.core.db.session() as s:
        assert (await s.exec(select(ChannelSync))).one().state == SyncState.DONE.value
    assert set(await _memberships(h)) >= {"U1", "U2"}
