"""What the Teams adapter keeps in the database: tenants, people, conversation references.

Proactive messages in Teams only work with a stored conversation reference, so every inbound turn refreshes
the reference for the conversation it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.teams.translate import PLATFORM, TeamsContext, split_conversation_id
from storage.database import Database
from storage.tables import ConversationAddress, User, Workspace

EXTRA_KEY = "tandem"  # our additions inside the stored reference JSON (team id, tenant id)


@dataclass(frozen=True)
class Address:
    """A stored place to write to, with the reference JSON botbuilder needs."""

    id: int
    workspace_id: int
    conversation_id: str
    scope: str
    reference: dict[str, Any]
    gone: bool

    @property
    def extra(self) -> dict[str, Any]:
        return self.reference.get(EXTRA_KEY) or {}


@dataclass(frozen=True)
class Person:
    """A member as the connector describes them (roster pages, member look-ups)."""

    user_id: str
    name: str | None = None
    email: str | None = None  # UPN when known (the group-chat deep link needs it), else e-mail
    aad_object_id: str | None = None
    role: str | None = None


async def _workspace(session: AsyncSession, tenant_id: str) -> Workspace | None:
    result = await session.exec(
        select(Workspace).where(Workspace.platform == PLATFORM, Workspace.external_id == tenant_id)
    )
    return result.first()


async def _user(session: AsyncSession, workspace_id: int, user_id: str) -> User | None:
    result = await session.exec(select(User).where(User.workspace_id == workspace_id, User.platform_user_id == user_id))
    return result.first()


async def _ensure_workspace(
    session: AsyncSession,
    tenant_id: str,
    now: datetime,
    *,
    service_url: str | None,
    bot_id: str | None,
    name: str | None = None,
) -> Workspace:
    ws = await _workspace(session, tenant_id)
    if ws is None:
        ws = Workspace(platform=PLATFORM, external_id=tenant_id, name=name or "", installed_at=now, settings={})
        session.add(ws)
    settings = dict(ws.settings or {})
    if service_url and settings.get("service_url") != service_url:
        settings["service_url"] = service_url
        ws.settings = settings
    if bot_id and ws.bot_user_id != bot_id:
        ws.bot_user_id = bot_id
    if ws.uninstalled_at is not None:
        ws.uninstalled_at = None
    await session.flush()
    return ws


async def _ensure_user(
    session: AsyncSession, ws: Workspace, person: Person, now: datetime, timezone: str | None = None
) -> User:
    assert ws.id is not None
    user = await _user(session, ws.id, person.user_id)
    if user is None:
        user = User(
            workspace_id=ws.id,
            platform_user_id=person.user_id,
            display_name=person.name or "",
            email=person.email,
            timezone=timezone or "UTC",
            created_at=now,
            updated_at=now,
        )
        session.add(user)
    else:
        if person.name and not user.display_name:
            user.display_name = person.name
        if person.email and user.email != person.email:
            user.email = person.email
    await session.flush()
    return user


async def _save_address(
    session: AsyncSession,
    ws_id: int,
    conversation_id: str,
    scope: str,
    reference: dict[str, Any],
    now: datetime,
    user_id: int | None = None,
) -> bool:
    result = await session.exec(
        select(ConversationAddress).where(
            ConversationAddress.workspace_id == ws_id, ConversationAddress.conversation_id == conversation_id
        )
    )
    row = result.first()
    fresh = row is None or row.gone
    if row is None:
        row = ConversationAddress(workspace_id=ws_id, conversation_id=conversation_id, scope=scope)
        session.add(row)
    row.scope = scope
    row.reference = reference
    row.gone = False
    row.updated_at = now
    if user_id is not None:
        row.user_id = user_id
    await session.flush()
    return fresh


async def _retrying(db: Database, work: Any) -> Any:
    """Run ``work(session)`` in a transaction, once more if a concurrent turn inserted the same row."""
    try:
        async with db.transaction() as session:
            return await work(session)
    except IntegrityError:
        async with db.transaction() as session:
            return await work(session)


def reference_for(ctx: TeamsContext, reference: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(conversation id to store under, scope, reference JSON); channel threads are stored as the channel."""
    ref = dict(reference)
    ref.pop("activityId", None)
    extra = {"tenant_id": ctx.tenant_id}
    if ctx.team_id:
        extra["team_id"] = ctx.team_id
    if ctx.conversation_type == "channel":
        conversation_id = ctx.channel_id or split_conversation_id(ctx.conversation_id)[0]
        ref["conversation"] = {**(ref.get("conversation") or {}), "id": conversation_id}
        scope = "channel"
    else:
        conversation_id = ctx.conversation_id
        scope = ctx.conversation_type
    ref["conversation"] = {
        **(ref.get("conversation") or {}),
        "tenantId": ctx.tenant_id,
        "conversationType": ctx.conversation_type,
    }
    ref[EXTRA_KEY] = extra
    return conversation_id, scope, ref


async def remember_turn(
    db: Database, ctx: TeamsContext, reference: dict[str, Any], now: datetime, *, email: str | None = None
) -> bool:
    """Upsert the tenant, the sender and the conversation reference this turn arrived on.

    Returns True when the conversation is new to Tandem (or the bot had been removed from it)."""
    conversation_id, scope, ref = reference_for(ctx, reference)

    async def work(session: AsyncSession) -> bool:
        ws = await _ensure_workspace(session, ctx.tenant_id, now, service_url=ctx.service_url, bot_id=ctx.bot_id)
        user = await _ensure_user(
            session, ws, Person(ctx.user_id, ctx.user_name, email, ctx.aad_object_id), now, ctx.timezone
        )
        assert ws.id is not None
        return await _save_address(
            session, ws.id, conversation_id, scope, ref, now, user_id=user.id if scope == "personal" else None
        )

    return await _retrying(db, work)


async def save_personal_address(
    db: Database, tenant_id: str, user_id: str, reference: dict[str, Any], now: datetime
) -> None:
    """Store the 1:1 conversation the bot just created with someone."""
    conversation_id = reference["conversation"]["id"]

    async def work(session: AsyncSession) -> None:
        ws = await _ensure_workspace(session, tenant_id, now, service_url=reference.get("serviceUrl"), bot_id=None)
        user = await _ensure_user(session, ws, Person(user_id), now)
        assert ws.id is not None
        await _save_address(session, ws.id, conversation_id, "personal", reference, now, user_id=user.id)

    await _retrying(db, work)


async def save_people(db: Database, tenant_id: str, people: list[Person], now: datetime) -> None:
    """Upsert roster members so names and UPNs are known before their first message."""

    async def work(session: AsyncSession) -> None:
        ws = await _ensure_workspace(session, tenant_id, now, service_url=None, bot_id=None)
        assert ws.id is not None  # _ensure_workspace flushes, so the row has its id
        wanted = {p.user_id: p for p in people}
        ids = list(wanted)
        known: dict[str, User] = {}
        for start in range(0, len(ids), 500):  # one query per roster page, not one per person
            result = await session.exec(
                select(User).where(User.workspace_id == ws.id, col(User.platform_user_id).in_(ids[start : start + 500]))
            )
            known.update({u.platform_user_id: u for u in result.all()})
        for user_id, person in wanted.items():
            user = known.get(user_id)
            if user is None:
                session.add(
                    User(
                        workspace_id=ws.id,
                        platform_user_id=user_id,
                        display_name=person.name or "",
                        email=person.email,
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            if person.name and not user.display_name:
                user.display_name = person.name
            if person.email and user.email != person.email:
                user.email = person.email
                user.updated_at = now
        await session.flush()

    await _retrying(db, work)


def _address(row: ConversationAddress) -> Address:
    assert row.id is not None
    return Address(
        id=row.id,
        workspace_id=row.workspace_id,
        conversation_id=row.conversation_id,
        scope=row.scope,
        reference=dict(row.reference or {}),
        gone=row.gone,
    )


async def personal_address(db: Database, tenant_id: str, user_id: str) -> Address | None:
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return None
        assert ws.id is not None  # a stored row has an id
        user = await _user(session, ws.id, user_id)
        if user is None:
            return None
        result = await session.exec(
            select(ConversationAddress)
            .where(
                ConversationAddress.workspace_id == ws.id,
                ConversationAddress.user_id == user.id,
                ConversationAddress.scope == "personal",
            )
            .order_by(col(ConversationAddress.updated_at).desc())
        )
        row = result.first()
        return _address(row) if row else None


async def conversation_address(db: Database, tenant_id: str, conversation_id: str) -> Address | None:
    """The stored reference for a conversation; a channel thread falls back to its channel."""
    base, _ = split_conversation_id(conversation_id)
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return None
        for cid in dict.fromkeys((conversation_id, base)):
            result = await session.exec(
                select(ConversationAddress).where(
                    ConversationAddress.workspace_id == ws.id, ConversationAddress.conversation_id == cid
                )
            )
            row = result.first()
            if row is not None:
                return _address(row)
    return None


async def team_channels(db: Database, tenant_id: str, team_id: str) -> list[str]:
    """The channels of a team that Tandem holds references for (installs, @mentions)."""
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return []
        result = await session.exec(
            select(ConversationAddress).where(
                ConversationAddress.workspace_id == ws.id, ConversationAddress.scope == "channel"
            )
        )
        return [
            row.conversation_id
            for row in result.all()
            if not row.gone and (row.reference or {}).get(EXTRA_KEY, {}).get("team_id") == team_id
        ]


async def workspace_info(db: Database, tenant_id: str) -> tuple[str | None, str | None]:
    """(service URL, bot id) last seen for the tenant, needed to open a 1:1 chat from scratch."""
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return None, None
        return (ws.settings or {}).get("service_url"), ws.bot_user_id


async def mark_gone(db: Database, address_id: int, now: datetime) -> None:
    """The bot may no longer write there (blocked, uninstalled, conversation deleted)."""
    async with db.transaction() as session:
        row = await session.get(ConversationAddress, address_id)
        if row is not None:
            row.gone = True
            row.updated_at = now


async def mark_conversation_gone(db: Database, tenant_id: str, conversation_id: str, now: datetime) -> None:
    address = await conversation_address(db, tenant_id, conversation_id)
    if address is not None:
        await mark_gone(db, address.id, now)


async def person_by_email(db: Database, tenant_id: str, email: str) -> Person | None:
    """Someone Tandem already knows in the tenant whose stored e-mail (usually the UPN) is ``email``."""
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return None
        result = await session.exec(
            select(User).where(User.workspace_id == ws.id, func.lower(User.email) == email.strip().lower())
        )
        user = result.first()
    if user is None:
        return None
    return Person(user_id=user.platform_user_id, name=user.display_name or None, email=user.email)


async def roster_addresses(db: Database, tenant_id: str) -> list[Address]:
    """One live reference per team (and per group chat) the bot is in: where the tenant's rosters can be read."""
    async with db.session() as session:
        ws = await _workspace(session, tenant_id)
        if ws is None:
            return []
        result = await session.exec(
            select(ConversationAddress)
            .where(
                ConversationAddress.workspace_id == ws.id,
                col(ConversationAddress.scope).in_(("channel", "groupChat")),
                col(ConversationAddress.gone).is_(False),
            )
            .order_by(col(ConversationAddress.updated_at).desc())
        )
        rows = result.all()
    picked: dict[str, Address] = {}
    for row in rows:
        address = _address(row)
        picked.setdefault(address.extra.get("team_id") or address.conversation_id, address)
    return list(picked.values())
