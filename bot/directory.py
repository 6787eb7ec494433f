"""Workspaces and people: find or create them from what an adapter tells us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Actor
from bot.timeutil import is_zone
from storage.tables import User, Workspace


async def ensure_workspace(session: AsyncSession, platform: str, external_id: str, now: datetime,
                           name: str | None = None) -> Workspace:
    found = (await session.exec(select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id))).first()
    if found is None:
        found = Workspace(platform=platform, external_id=external_id, name=name or external_id,
                          installed_at=now)
        session.add(found)
        await session.flush()
    elif name and found.name != name:
        found.name = name
    return found


async def ensure_user(session: AsyncSession, workspace: Workspace, actor: Actor, now: datetime,
                      known: User | None = None) -> User:
    """The person behind ``actor``; refreshes name, e-mail and zone unless they set their own zone."""
    user = known or await find_user(session, workspace.id, actor.user_id)
    if user is None:
        user = User(workspace_id=workspace.id, platform_user_id=actor.user_id,
                    display_name=actor.name or actor.user_id, email=actor.email, created_at=now)
        session.add(user)
    else:
        if actor.name and user.display_name != actor.name:
            user.display_name = actor.name
        if actor.email and user.email != actor.email:
            user.email = actor.email
    if actor.timezone and is_zone(actor.timezone) and not user.timezone_from_profile:
        user.timezone = actor.timezone
    if actor.is_platform_admin is not None and user.is_platform_admin != actor.is_platform_admin:
        user.is_platform_admin = actor.is_platform_admin
    if user.id is None or session.is_modified(user):
        user.updated_at = now
        await session.flush()
    return user


async def find_user(session: AsyncSession, workspace_id: int | None, platform_user_id: str) -> User | None:
    return (await session.exec(select(User).where(
        User.workspace_id == workspace_id, User.platform_user_id == platform_user_id))).first()


async def actor_context(session: AsyncSession, actor: Actor, now: datetime) -> tuple[Workspace, User]:
    """Workspace and person in one query on the hot path (every event), creating them when new."""
    row = (await session.exec(
        select(Workspace, User).join(User, and_(col(User.workspace_id) == Workspace.id,
                                                User.platform_user_id == actor.user_id))
        .where(Workspace.platform == actor.platform, Workspace.external_id == actor.workspace_id))).first()
    if row is not None:
        workspace, user = row
        return workspace, await ensure_user(session, workspace, actor, now, known=user)
    workspace = await ensure_workspace(session, actor.platform, actor.workspace_id, now)
    user = await ensure_user(session, workspace, actor, now)
    return workspace, user
