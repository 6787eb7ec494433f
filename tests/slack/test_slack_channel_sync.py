"""People already in a program's channel are reached through the real Slack adapter and the fake Web API:
``conversations.members`` page by page, ``users.info`` for unknown ids only, exactly one message per human."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from bot.programs.channel_sync import LEASE, run_channel_syncs
from storage.database import Database
from storage.enums import DeliveryState, MembershipStatus, SyncState
from storage.tables import ChannelSync, Delivery, Membership
from tests.slack.fake_slack import BOT_USER_ID, FakeSlack
from tests.slack.slack_harness import Harness, slack_config
from tests.slack.test_slack_commands import ADMIN, create_program, rows, run

CHANNEL = "C0COFFEE"
HUMANS = [ADMIN] + [f"U{n:06d}" for n in range(1, 1190)]  # 1,190 people
BOTS = [BOT_USER_ID, "B0HELPER1", "B0HELPER2", "B0HELPER3", "B0HELPER4"]
GONE = [f"U9DEAD{n:03d}" for n in range(5)]  # deactivated accounts


def fill_channel(fake: FakeSlack, humans: list[str] = HUMANS) -> None:
    """1,200 members, bots and deactivated accounts mixed in: three pages of 500 on Slack."""
    members = list(humans)
    for n, odd in enumerate(BOTS + GONE):
        members.insert(n * 97 + 13, odd)
    fake.channels[CHANNEL] = members
    fake.bots.update(BOTS)
    fake.deactivated.update(GONE)


@asynccontextmanager
async def serving(database: Database, fake: FakeSlack, clock: SimulatedClock, name: str) -> AsyncIterator[Harness]:
    """One Tandem server process (its own core, adapter and instance id) on loopback."""
    # pacing off: the clock starts at the wall clock's time of day, and quiet hours would make this test
    # depend on when it runs; the fake Web API shares this loop with 1,200 sends, so allow slow answers
    core = Tandem(database, clock=clock, instance_id=name, pacing=False)
    app = web.Application()
    mount(app, core, slack_config(fake, http_timeout=30.0))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    try:
        yield h
    finally:
        await h.settle()
        await client.close()


def dms(fake: FakeSlack) -> Counter[str]:
    """Invitations (chat.postMessage straight to a person: their DM with the app), counted per person."""
    return Counter(
        str(c.args["channel"])
        for c in fake.called("chat.postMessage")
        if str(c.args["channel"])[:1] in "UWB" and "Join" in str(c.args.get("blocks"))
    )


async def sync_row(h: Harness) -> ChannelSync:
    [sync] = await rows(h, ChannelSync)
    return sync


async def test_a_1200_member_channel_gets_one_invitation_per_human(database: Database, fake: FakeSlack) -> None:
    fill_channel(fake)
    clock = SimulatedClock(datetime.now(UTC))
    async with serving(database, fake, clock, "one") as h:
        program = await create_program(h, channel=CHANNEL)
        await h.core.tick()

        pages = fake.called("conversations.members")
        assert len(pages) == 3 and all(c.args["channel"] == CHANNEL for c in pages)
        assert [bool(c.args.get("cursor")) for c in pages] == [False, True, True]
        looked_up = Counter(str(c.args["user"]) for c in fake.called("users.info"))
        assert looked_up[ADMIN] <= 1 and all(n == 1 for n in looked_up.values())  # nobody looked up twice
        assert set(looked_up) >= set(HUMANS[1:]) | set(BOTS) | set(GONE)

        sent = dms(fake)
        assert set(sent) == set(HUMANS) and set(sent.values()) == {1}  # no bot, no deactivated
        [invitation] = [
            str(c.args["blocks"]) for c in fake.called("chat.postMessage") if c.args["channel"] == HUMANS[5]
        ]
        assert "A channel you're in now runs" in invitation and "Coffee chats" in invitation
        members = await rows(h, Membership, Membership.program_id == program.id)
        assert len(members) == len(HUMANS) and {m.status for m in members} == {MembershipStatus.INVITED.value}
        sync = await sync_row(h)
        assert sync.state == SyncState.DONE.value and sync.total == len(HUMANS) == sync.invited

        status = str((await run(h, "status", user=ADMIN, channel=CHANNEL))["blocks"])
        assert f"reached all {len(HUMANS)} people in #{CHANNEL}" in status
        assert f"{len(HUMANS)} invited" in status and f"{len(HUMANS)} of {len(HUMANS)} messages sent" in status


async def test_a_restart_half_way_loses_and_duplicates_nobody(database: Database, fake: FakeSlack) -> None:
    fill_channel(fake)
    clock = SimulatedClock(datetime.now(UTC))
    async with serving(database, fake, clock, "first") as first:
        await create_program(first, channel=CHANNEL)
        assert await run_channel_syncs(first.core, max_batches=5) == 5  # then this server dies
        await first.core.dispatch()
        half = await sync_row(first)
        assert half.state == SyncState.RUNNING.value and half.position == 500
        status = str((await run(first, "status", user=ADMIN, channel=CHANNEL))["blocks"])
        assert f"500 of {len(HUMANS)} done" in status and "500 invited" in status
    assert sum(dms(fake).values()) == 500
    listed = len(fake.called("users.info"))

    async with serving(database, fake, clock, "second") as second:
        assert await run_channel_syncs(second.core) == 0  # the first server's lease still holds
        clock.advance(LEASE + timedelta(minutes=1))
        await second.core.tick()
        assert len(fake.called("conversations.members")) == 3  # the stored list is used, not fetched again
        assert len(fake.called("users.info")) == listed
        sent = dms(fake)
        assert set(sent) == set(HUMANS) and set(sent.values()) == {1}
        sync = await sync_row(second)
        assert sync.state == SyncState.DONE.value and sync.invited == len(HUMANS) and sync.unchanged == 0
        deliveries = await rows(second, Delivery, Delivery.step == "channel_sync")
        assert len(deliveries) == len(HUMANS) and {d.state for d in deliveries} == {DeliveryState.SENT.value}


async def test_a_second_sync_reaches_only_people_added_since(database: Database, fake: FakeSlack) -> None:
    humans = HUMANS[:40]
    fill_channel(fake, humans)
    clock = SimulatedClock(datetime.now(UTC))
    async with serving(database, fake, clock, "one") as h:
        program = await create_program(h, channel=CHANNEL)
        await h.core.tick()
        assert set(dms(fake)) == set(humans)
        await run(h, "join", user=humans[3], channel=CHANNEL)  # one says yes
        await run(h, "leave", user=humans[4], channel=CHANNEL)  # one says no thanks

        newcomers = ["U7NEW0001", "U7NEW0002", "U7NEW0003"]
        fake.channels[CHANNEL] += [*newcomers, "B0NEWBOT"]
        fake.bots.add("B0NEWBOT")
        fake.calls.clear()
        fake.fail_next("conversations.members", "429", retry_after=0)  # waited out, not a reason to give up
        fake.fail_next("users.info", "429", retry_after=0)
        answer = str((await run(h, "program sync", user=ADMIN, channel=CHANNEL))["blocks"])
        assert "Checking who is in" in answer
        again = str((await run(h, "program sync", user=ADMIN, channel=CHANNEL))["blocks"])
        assert "Already on it" in again  # asking twice starts nothing new
        await h.core.tick()

        assert {str(c.args["user"]) for c in fake.called("users.info")} == {*newcomers, "B0NEWBOT"}
        assert dms(fake) == Counter(newcomers)
        syncs = await rows(h, ChannelSync)
        assert [s.state for s in syncs] == [SyncState.DONE.value] * 2
        assert (syncs[1].invited, syncs[1].unchanged) == (3, len(humans))
        left = [m for m in await rows(h, Membership, Membership.program_id == program.id) if m.status == "left"]
        assert len(left) == 1  # whoever left is not asked again by a sync


async def test_a_channel_the_bot_cannot_see_is_reported_to_the_admin(database: Database, fake: FakeSlack) -> None:
    clock = SimulatedClock(datetime.now(UTC))
    async with serving(database, fake, clock, "one") as h:
        await create_program(h, channel="C0PRIVATE")
        await h.core.tick()
        sync = await sync_row(h)
        assert sync.state == SyncState.FAILED.value
        status = str((await run(h, "status", user=ADMIN, channel="C0PRIVATE"))["blocks"])
        assert "add me to the channel" in status and "program sync" in status
