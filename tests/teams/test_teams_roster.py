"""Roster enrolment: team members fetched page by page (continuation tokens), stored with their UPNs."""

from __future__ import annotations

import pytest

from bot.kernel.port import SendError, UserInfo
from storage.tables import User
from tests.teams.teams_harness import Harness

TENANT = "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"
CHANNEL = "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
TEAM = "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2"


def many_members(template: dict, count: int) -> list[dict]:
    """``count`` members shaped like the recorded TeamsChannelAccount, with varied ids and names."""
    out = []
    for n in range(count):
        member = dict(template)
        member.update(
            id=f"29:member-{n:05d}",
            objectId=f"00000000-0000-0000-0000-{n:012d}",
            name=f"Person {n}",
            givenName="Person",
            surname=str(n),
            email=f"p{n}@contoso.example",
            userPrincipalName=f"p{n}@contoso.example",
            tenantId=TENANT,
        )
        out.append(member)
    return out


async def test_team_roster_follows_continuation_tokens_past_one_page(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("conversationUpdate_bot_added_to_team")))[0] == 201
        h.connector.members = many_members(h.connector.members[0], 1234)
        h.connector.members.append({"id": "28:some-other-bot", "name": "Bot"})
        h.connector.calls.clear()
        actors = await h.runtime.port.channel_members(TENANT, CHANNEL)
        pages = h.connector.calls_to("GET", "/pagedmembers")
        assert len(pages) == 3
        assert all(c.segments[2] == TEAM for c in pages)  # the team's roster, not only the channel thread
        assert [c.query.get("continuationToken") for c in pages] == [None, "500", "1000"]
        assert len(actors) == 1234 and all(isinstance(a, UserInfo) for a in actors)
        assert actors[0] == UserInfo(user_id="29:member-00000", name="Person 0", email="p0@contoso.example")
        users = {u.platform_user_id: u for u in await h.rows(User)}
        assert users["29:member-01233"].email == "p1233@contoso.example"
        assert "28:some-other-bot" not in users


async def test_roster_page_rate_limited_is_retried(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("conversationUpdate_bot_added_to_team")))[0] == 201
        h.connector.members = many_members(h.connector.members[0], 600)
        h.connector.fail("GET", "/pagedmembers", 429, "", times=1)
        actors = await h.runtime.port.channel_members(TENANT, CHANNEL)
        assert len(actors) == 600


async def test_roster_of_unknown_channel_is_an_error(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        with pytest.raises(SendError):
            await h.runtime.port.channel_members(TENANT, "19:unknown@thread.tacv2")
