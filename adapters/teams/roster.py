"""Team rosters, page by page, as the neutral ``UserInfo`` records the core's channel sync works through.

The connector returns at most 500 members a page; following the continuation token is what makes teams
over 5,000 members work (the unpaged members call stops there).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from adapters.teams.store import Address, Person
from bot.kernel.port import SendError, UserInfo

if TYPE_CHECKING:
    from adapters.teams.port import TeamsPort

log = logging.getLogger("tandem.teams")

PAGE_SIZE = 500
MAX_PAGES = 1000  # 500,000 people: a guard against a connector that never stops handing out tokens


def person_of(member: Any) -> Person:
    """A TeamsChannelAccount as a Person; the UPN is preferred because Teams deep links need it."""
    return Person(
        user_id=member.id,
        name=member.name,
        email=getattr(member, "user_principal_name", None) or getattr(member, "email", None),
        aad_object_id=getattr(member, "aad_object_id", None),
        role=getattr(member, "user_role", None),
    )


def info_of_person(person: Person) -> UserInfo:
    return UserInfo(user_id=person.user_id, name=person.name or "", email=person.email)


TurnRunner = Callable[[Callable[[TurnContext], Awaitable[Any]]], Awaitable[Any]]


async def roster_members(run: TurnRunner, address: Address) -> list[Any]:
    """Every person (TeamsChannelAccount, bots left out) in the team or group chat behind ``address``,
    following continuation tokens; ``run`` executes one connector call in a proactive turn."""
    team_id = address.extra.get("team_id") or address.conversation_id
    members: list[Any] = []
    token: str | None = None
    for _page in range(MAX_PAGES):

        async def fetch(turn: TurnContext, token: str | None = token) -> Any:
            if address.scope == "channel":
                return await TeamsInfo.get_paged_team_members(turn, team_id, token, PAGE_SIZE)
            return await TeamsInfo.get_paged_members(turn, token, PAGE_SIZE)

        page = await run(fetch)
        members.extend(m for m in page.members or [] if m.id and not m.id.startswith("28:"))
        token = page.continuation_token
        if not token:
            break
    else:
        log.warning("teams: roster of %s stopped after %d pages", address.conversation_id, MAX_PAGES)
    return members


async def team_roster(port: TeamsPort, tenant_id: str, channel_id: str) -> list[UserInfo]:
    """Every member of the team (or group chat) behind ``channel_id``; also stores their names and UPNs.

    The core decides what being there means (bot/programs/channel_sync.py), as on every platform."""
    from adapters.teams import store

    address = await store.conversation_address(port.db, tenant_id, channel_id)
    if address is None:
        raise SendError(f"Teams: the bot is not installed in {channel_id}", retryable=False)
    members = await roster_members(lambda call: port.with_turn(tenant_id, address, call), address)
    people = {m.id: person_of(m) for m in members}
    await port.remember_people(tenant_id, list(people.values()))
    return [info_of_person(p) for p in people.values()]
