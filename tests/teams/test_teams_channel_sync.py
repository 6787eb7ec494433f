"""People already in a program's team are reached through the real Teams adapter and the fake Bot Connector:
the roster page by page, exactly one message per person, across a restart, and only newcomers next time."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from adapters.teams.config import TeamsConfig
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from bot.programs.channel_sync import LEASE, run_channel_syncs
from storage.enums import MembershipStatus, SyncState
from storage.tables import ChannelSync, Delivery, Membership
from tests.teams.teams_harness import Harness
from tests.teams.test_teams_real_core import ALEX_AAD, _say, card_of, private_cards
from tests.teams.test_teams_roster import many_members

ADMINS = TeamsConfig(admin_ids=frozenset({ALEX_AAD}))
BOT = {"id": "28:another-bot", "name": "Some bot"}


def roster(h: Harness, count: int) -> list[dict]:
    """The recorded members (Alex, who creates the program, among them) plus ``count`` more, and a bot."""
    people = h.connector.members + many_members(h.connector.members[0], count)
    h.connector.members = [*people[:700], BOT, *people[700:]]
    return people


async def create_program(h: Harness, enrolment: str) -> None:
    alex = h.connector.members[1]
    await _say(h, alex, "program create")
    invoke = h.submit(private_cards(h)[-1], name="Coffee chats", enrolment=enrolment)
    base = h.activity("message_channel_mention")
    invoke.update(
        {
            "from": {"id": alex["id"], "name": alex["name"], "aadObjectId": ALEX_AAD},
            "conversation": base["conversation"],
            "channelData": base["channelData"],
        }
    )
    assert (await h.post(invoke))[0] == 200


async def invitations(h: Harness) -> Counter[str]:
    """The channel sync's messages in the outbox, counted per person."""
    return Counter(str(d.target["user_id"]) for d in await h.rows(Delivery) if d.step == "channel_sync")


def sent_notices(h: Harness) -> Counter[str]:
    """Enrolment notices sent to people's 1:1 chats, counted per chat (the fake names it after the person)."""
    return Counter(
        c.segments[2].removeprefix("a:fake-personal-")
        for c in h.connector.calls_to("POST", "/activities")
        if c.segments[2].startswith("a:") and "Leave the program" in str(card_of(c))
    )


async def test_a_1200_member_team_is_reached_once_each_across_a_restart(db, tmp_path) -> None:
    async with Harness(db, tmp_path, ADMINS, real_core=True) as h:
        people = roster(h, 1197)
        ids = {p["id"] for p in people}
        assert len(ids) == 1200
        await create_program(h, "opt_in")
        assert await run_channel_syncs(h.core, max_batches=4) == 4  # then this worker dies
        pages = h.connector.calls_to("GET", "/pagedmembers")
        assert [c.query.get("continuationToken") for c in pages] == [None, "500", "1000"]
        assert sum((await invitations(h)).values()) == 400

        restarted = Tandem(h.core.db, instance_id="restarted", clock=SimulatedClock(h.core.clock.now()), pacing=False)
        restarted.register_port("teams", h.core.port("teams"))
        assert await run_channel_syncs(restarted) == 0  # the first worker's lease still holds
        restarted.clock.advance(LEASE + timedelta(minutes=1))
        assert await run_channel_syncs(restarted) == 8
        assert len(h.connector.calls_to("GET", "/pagedmembers")) == 3  # the stored roster carries on
        sent = await invitations(h)
        assert set(sent) == ids and set(sent.values()) == {1}  # everyone once; the bot never
        members = await h.rows(Membership)
        assert len(members) == 1200 and {m.status for m in members} == {MembershipStatus.INVITED.value}
        [sync] = await h.rows(ChannelSync)
        assert sync.state == SyncState.DONE.value and (sync.invited, sync.enrolled) == (1200, 0)

        newcomers = many_members(people[0], 1205)[1197:]
        h.connector.members += newcomers
        await _say(h, people[1], "program sync")
        await run_channel_syncs(h.core)
        assert await invitations(h) - sent == Counter(m["id"] for m in newcomers)  # only people added since


async def test_an_opt_out_team_is_enrolled_and_told_through_the_connector(db, tmp_path) -> None:
    async with Harness(db, tmp_path, ADMINS, real_core=True) as h:
        people = roster(h, 27)
        await create_program(h, "opt_out")
        await h.core.tick()
        assert sent_notices(h) == Counter(p["id"] for p in people)  # one each, in their 1:1 chat; the bot none
        members = await h.rows(Membership)
        assert len(members) == 30 and {m.status for m in members} == {MembershipStatus.ACTIVE.value}
