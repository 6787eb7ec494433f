"""E-mail → Teams user, for participant imports: people Tandem already knows, then the tenant's rosters.

The Bot Framework has no "look up by e-mail" call, but every team roster page lists each member's ``email``
and ``userPrincipalName``. So a tenant's rosters (the teams and group chats the bot is in) are paged once and
kept for a few minutes: an import of 500 rows reads them once, not 500 times.

Look-ups happen inside the core's database transaction, so nothing here writes to the database (on SQLite a
second writer would wait for that very transaction); a team the bot was removed from is simply skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from adapters.teams import store
from adapters.teams.outbound import GONE_STATUSES, send_error, status_of
from adapters.teams.port import TeamsPort
from adapters.teams.roster import roster_members
from adapters.teams.store import Address
from bot.kernel.port import SendError, UserInfo

log = logging.getLogger("tandem.teams")

ROSTER_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class Entry:
    user_id: str
    name: str
    email: str | None  # the UPN when known (Teams deep links need it), else the mail address


def _index(members: list[Any]) -> dict[str, Entry]:
    """Each member under their mail address and their UPN, lower-cased."""
    index: dict[str, Entry] = {}
    for member in members:
        mail = getattr(member, "email", None)
        upn = getattr(member, "user_principal_name", None)
        entry = Entry(user_id=member.id, name=member.name or "", email=upn or mail)
        for address in (mail, upn):
            if isinstance(address, str) and address.strip():
                index.setdefault(address.strip().lower(), entry)
    return index


class EmailDirectory:
    """Per-tenant roster cache behind ``TeamsPort.lookup_user_by_email``."""

    def __init__(
        self, port: TeamsPort, *, ttl: float = ROSTER_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.port = port
        self.ttl = ttl
        self.clock = clock
        self._rosters: dict[str, tuple[float, dict[str, Entry]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def lookup(self, tenant_id: str, email: str) -> UserInfo | None:
        wanted = email.strip().lower()
        if not wanted:
            return None
        known = await store.person_by_email(self.port.db, tenant_id, wanted)
        if known is not None:
            return UserInfo(user_id=known.user_id, name=known.name or "", email=known.email)
        entry = (await self._roster(tenant_id)).get(wanted)
        if entry is None:
            return None
        return UserInfo(user_id=entry.user_id, name=entry.name, email=entry.email)

    def forget(self, tenant_id: str | None = None) -> None:
        """Drop cached rosters (all, or one tenant's) so the next look-up pages again."""
        if tenant_id is None:
            self._rosters.clear()
        else:
            self._rosters.pop(tenant_id, None)

    async def _roster(self, tenant_id: str) -> dict[str, Entry]:
        async with self._locks.setdefault(tenant_id, asyncio.Lock()):  # concurrent look-ups page once
            cached = self._rosters.get(tenant_id)
            if cached is not None and self.clock() - cached[0] < self.ttl:
                return cached[1]
            index = await self._page_all(tenant_id)
            self._rosters[tenant_id] = (self.clock(), index)
            return index

    async def _page_all(self, tenant_id: str) -> dict[str, Entry]:
        addresses = await store.roster_addresses(self.port.db, tenant_id)
        if not addresses:
            raise SendError(
                "Tandem isn't in any team or group chat of this organisation yet, so it can't look people up by "
                "e-mail (add it to a team, or give platform_user_id instead)",
                retryable=False,
            )
        members: list[Any] = []
        read = 0
        for address in addresses:
            try:
                members.extend(await roster_members(self._runner(tenant_id, address), address))
            except Exception as exc:
                if status_of(exc) in GONE_STATUSES:
                    log.info("teams: skipping the roster of %s (%s)", address.conversation_id, exc)
                    continue
                raise send_error(exc) from exc
            read += 1
        if not read:
            raise SendError("Tandem was removed from every team it knew in this organisation", retryable=False)
        log.info("teams: read %d roster(s) of tenant %s: %d people", read, tenant_id, len(members))
        return _index(members)

    def _runner(
        self, tenant_id: str, address: Address
    ) -> Callable[[Callable[[TurnContext], Awaitable[Any]]], Awaitable[Any]]:
        """One connector call in a proactive turn, paced and retried like the port's sends, writing nothing."""

        async def run(call: Callable[[TurnContext], Awaitable[Any]]) -> Any:
            return await self.port.in_turn(tenant_id, address, None, call)

        return run
