"""Workspaces and people: find or create them from what an adapter tells us."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.kernel.events import Actor
from bot.kernel.timeutil import is_zone
from storage.tables import Membership, User, Workspace
from storage.upsert import insert_ignore

ACTIVE_EVERY = timedelta(days=1)  # how fresh User.last_active_at is kept (it drives the retention limit)


async def ensure_workspace(
    session: AsyncSession, platform: str, external_id: str, now: datetime, name: str | None = None
) -> Workspace:
    query = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
    found = (await session.exec(query)).first()
    if found is None:  # insert-or-ignore: two first events from a new workspace may race
        await insert_ignore(
            session,
            Workspace,
            [
                {
                    "platform": platform,
                    "external_id": external_id,
                    "name": name or external_id,
                    "installed_at": now,
                    "settings": {},
                }
            ],
            ["platform", "external_id"],
        )
        found = (await session.exec(query)).one()
    elif name and found.name != name:
        found.name = name
    return found


def new_user_row(workspace: Workspace, actor: Actor, now: datetime) -> dict[str, object]:
    """A person's first row, with the platform's zone when it sent a real one."""
    return {
        "workspace_id": workspace.id,
        "platform_user_id": actor.user_id,
        "display_name": actor.name or actor.user_id,
        "email": actor.email,
        "created_at": now,
        "timezone": actor.timezone if actor.timezone and is_zone(actor.timezone) else "UTC",
        "timezone_from_profile": False,
        "work_start": "09:00",
        "work_end": "17:00",
        "is_platform_admin": False,
        "shoutouts": True,
        "is_bot": False,
    }


async def _create_user(session: AsyncSession, workspace: Workspace, actor: Actor, now: datetime) -> User:
    """Insert-or-ignore then read back: a person's first two events may race."""
    await insert_ignore(session, User, [new_user_row(workspace, actor, now)], ["workspace_id", "platform_user_id"])
    user = await find_user(session, workspace.id, actor.user_id)
    assert user is not None
    return user


async def ensure_users(session: AsyncSession, workspace: Workspace, actors: list[Actor], now: datetime) -> list[User]:
    """Many people at once (a channel's members), in three queries; known people are returned as they are."""
    ids = [a.user_id for a in actors]
    query = select(User).where(User.workspace_id == workspace.id, col(User.platform_user_id).in_(ids))
    found = {u.platform_user_id: u for u in (await session.exec(query)).all()}
    missing = [new_user_row(workspace, a, now) for a in actors if a.user_id not in found]
    if missing:
        await insert_ignore(session, User, missing, ["workspace_id", "platform_user_id"])
        found = {u.platform_user_id: u for u in (await session.exec(query)).all()}
    return [found[i] for i in ids if i in found]


def _refresh_identity(user: User, actor: Actor) -> None:
    """Name and e-mail follow the platform; only real changes are written, keeping the row clean."""
    if actor.name and user.display_name != actor.name:
        user.display_name = actor.name
    if actor.email and user.email != actor.email:
        user.email = actor.email


def _refresh_settings(user: User, actor: Actor) -> None:
    """Zone follows the platform unless the person chose their own; admin rights always follow it."""
    if actor.timezone and is_zone(actor.timezone) and not user.timezone_from_profile:
        user.timezone = actor.timezone
    if actor.is_platform_admin is not None and user.is_platform_admin != actor.is_platform_admin:
        user.is_platform_admin = actor.is_platform_admin


async def ensure_user(
    session: AsyncSession, workspace: Workspace, actor: Actor, now: datetime, known: User | None = None
) -> User:
    """The person behind ``actor``; refreshes name, e-mail and zone unless they set their own zone."""
    user = known or await find_user(session, workspace.id, actor.user_id)
    if user is None:
        user = await _create_user(session, workspace, actor, now)
    else:
        _refresh_identity(user, actor)
    _refresh_settings(user, actor)
    if user.last_active_at is None or now - user.last_active_at >= ACTIVE_EVERY:
        user.last_active_at = now  # at most once a day, so the hot path rarely writes
    if user.id is None or session.is_modified(user):
        user.updated_at = now
        await session.flush()
    return user


async def find_user(session: AsyncSession, workspace_id: int | None, platform_user_id: str) -> User | None:
    return (
        await session.exec(
            select(User).where(User.workspace_id == workspace_id, User.platform_user_id == platform_user_id)
        )
    ).first()


# built once: every event runs it, and building a statement costs more than running it. "ignoring" tells
# whether any of the person's memberships counts ignored intros, so a click only resets the count when there is one.
_ACTOR = (
    select(
        Workspace,
        User,
        exists().where(col(Membership.user_id) == User.id, col(Membership.ignored_intros) > 0).label("ignoring"),
    )
    .join(User, and_(col(User.workspace_id) == Workspace.id, col(User.platform_user_id) == bindparam("user_id")))
    .where(Workspace.platform == bindparam("platform"), Workspace.external_id == bindparam("workspace_id"))
)


async def actor_context(session: AsyncSession, actor: Actor, now: datetime) -> tuple[Workspace, User]:
    """Workspace and person in one query on the hot path (every event), creating them when new."""
    workspace, user, _ignoring = await actor_row(session, actor, now)
    return workspace, user


async def actor_row(session: AsyncSession, actor: Actor, now: datetime) -> tuple[Workspace, User, bool]:
    """Like ``actor_context``, plus whether the person has ignored intros on record (see bot/risk.py)."""
    row = (
        await session.exec(
            _ACTOR, params={"user_id": actor.user_id, "platform": actor.platform, "workspace_id": actor.workspace_id}
        )
    ).first()
    if row is not None:
        workspace, user, ignoring = row
        return workspace, await ensure_user(session, workspace, actor, now, known=user), bool(ignoring)
    workspace = await ensure_workspace(session, actor.platform, actor.workspace_id, now)
    user = await ensure_user(session, workspace, actor, now)
    return workspace, user, False  # someone new has no memberships yet
