"""Forgetting a person: their data erased everywhere, or a placeholder where a match must stay.

The match, its members and its ratings stay so the other person's history and the program's totals still
read correctly, but the user row they hang on becomes "Former participant" with no platform id, name or
e-mail, and everything the person wrote in their own words is erased. Whatever was still waiting in the
outbox for them is cancelled, and the audit entry records that it happened, never who it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.withdraw import withdraw_deliveries
from bot.privacy.scan import scrub_everywhere
from bot.privacy.traces import ERASED_TEXT, PLACEHOLDER_NAME, free_text_answers, is_forgotten, placeholder_id, traces_of
from bot.programs.membership import leave
from storage.database import Database
from storage.enums import DeliveryState, EndReason, MembershipStatus
from storage.tables import (
    Agreement,
    AuditEntry,
    Avoidance,
    ConversationAddress,
    Delivery,
    Goal,
    Installation,
    Membership,
    Program,
    Recap,
    SlackGroupDM,
    TeamsPendingFile,
    User,
    Workspace,
)


class ForgetReason(StrEnum):
    """Why a person was forgotten: written to the audit log instead of who it was."""

    SELF = "own_request"
    ADMIN = "admin_request"
    RETENTION = "retention"
    UNINSTALL = "uninstall"


@dataclass(frozen=True)
class Forgotten:
    programs_left: int
    messages_cancelled: int
    rows_scrubbed: int


async def _leave_everything(session: AsyncSession, user: User, now: datetime) -> int:
    """Leave every program (live matches end, the others are told) and empty every profile."""
    rows = (await session.exec(select(Membership).where(Membership.user_id == user.id))).all()
    left = 0
    for member in rows:
        if member.status != MembershipStatus.LEFT.value:
            program = await session.get(Program, member.program_id)
            if program is not None and await leave(session, program, user, now, EndReason.LEFT):
                left += 1
        member.status = MembershipStatus.LEFT.value
        member.left_at = member.left_at or now
        member.opted_out = True
        member.skills_offered = []
        member.skills_wanted = []
        member.interests = []
        member.department = None
        member.paused_until = None
    return left


async def _erase_own_words(session: AsyncSession, user_id: int) -> None:
    """Free text the person wrote; ratings and choices stay (unlinked from any name) so totals hold."""
    for answer in await free_text_answers(session, user_id):
        answer.value = ERASED_TEXT
    for goal in (await session.exec(select(Goal).where(Goal.owner_user_id == user_id))).all():
        goal.text = ERASED_TEXT
    for recap in (await session.exec(select(Recap).where(Recap.author_user_id == user_id))).all():
        recap.text = ERASED_TEXT
        recap.action_items = []
    for agreement in (await session.exec(select(Agreement).where(Agreement.proposed_by_user_id == user_id))).all():
        agreement.avoid = None


async def _drop_addresses(session: AsyncSession, user: User) -> None:
    """Rows that exist only to reach or describe the person: their avoid list, chat addresses, files."""
    await session.exec(
        delete(Avoidance).where(or_(col(Avoidance.user_id) == user.id, col(Avoidance.avoided_user_id) == user.id))
    )
    await session.exec(delete(ConversationAddress).where(col(ConversationAddress.user_id) == user.id))
    await session.exec(delete(TeamsPendingFile).where(col(TeamsPendingFile.user_id) == user.platform_user_id))
    groups = (await session.exec(select(SlackGroupDM))).all()
    for group in groups:
        if user.platform_user_id in group.members.split(","):
            await session.delete(group)
    installs = (
        await session.exec(select(Installation).where(Installation.installer_user_id == user.platform_user_id))
    ).all()
    for install in installs:
        install.installer_user_id = None


def _placeholder(user: User, now: datetime) -> None:
    user.platform_user_id = placeholder_id(user.id or 0)
    user.display_name = PLACEHOLDER_NAME
    user.email = None
    user.timezone = "UTC"
    user.timezone_from_profile = False
    user.work_start, user.work_end = "09:00", "17:00"
    user.about_me = user.ask_me_about = None
    user.self_entered = []
    user.day_start, user.day_end, user.weekend = "08:00", "20:00", [5, 6]
    user.is_platform_admin = False
    user.shoutouts = False
    user.updated_at = now


async def forget_person(
    session: AsyncSession, user: User, now: datetime, reason: ForgetReason, actor: User | None = None
) -> Forgotten:
    """Erase one person in the caller's transaction (all of it commits, or none)."""
    traces = await traces_of(session, user)  # before anything changes: the words to hunt for everywhere
    left = await _leave_everything(session, user, now)
    cancelled = await withdraw_deliveries(session, user.workspace_id, user.platform_user_id)
    await _erase_own_words(session, user.id or 0)
    await _drop_addresses(session, user)
    await session.flush()
    scrubbed = await scrub_everywhere(session, traces)
    _placeholder(user, now)
    session.add(
        AuditEntry(
            workspace_id=user.workspace_id,
            actor_user_id=actor.id if actor is not None and actor.id != user.id else None,
            action="forget",
            details={"reason": reason.value, "placeholder_user_id": user.id, "programs_left": left},
            at=now,
        )
    )
    await session.flush()
    return Forgotten(programs_left=left, messages_cancelled=cancelled, rows_scrubbed=scrubbed)


async def workspace_uninstalled(db: Database, platform: str, external_id: str, now: datetime, *, forget: bool) -> int:
    """The app was removed from a workspace: note when, and with ``forget`` erase everyone there.

    Returns how many people were forgotten. Programs and their totals stay (an admin reinstalling sees the
    history, with "Former participant" in every seat); nothing is sent, since the bot can no longer write.
    """
    async with db.transaction() as session:
        workspace = (
            await session.exec(
                select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
            )
        ).first()
        if workspace is None:
            return 0
        workspace.uninstalled_at = now
        if not forget:
            return 0
        count = await forget_workspace(session, workspace, now)
        await session.exec(
            update(Delivery)
            .where(col(Delivery.workspace_id) == workspace.id, col(Delivery.state) == DeliveryState.PENDING.value)
            .values(state=DeliveryState.CANCELLED.value)
        )
        return count


async def forget_workspace(session: AsyncSession, workspace: Workspace, now: datetime) -> int:
    """Forget everyone Tandem knows in a workspace (after an uninstall); returns how many people."""
    people = (await session.exec(select(User).where(User.workspace_id == workspace.id))).all()
    count = 0
    for user in people:
        if not is_forgotten(user):
            await forget_person(session, user, now, ForgetReason.UNINSTALL)
            count += 1
    return count
