"""Private notes to a program's admins (creator, platform admins, configured admins)."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import text_message
from bot.kernel.runtime import Runtime
from storage.tables import Program, User, Workspace


async def program_admins(core: Runtime, session: AsyncSession, program: Program) -> list[User]:
    workspace = await session.get(Workspace, program.workspace_id)
    extra = core.admins.extra_admins.get(workspace.platform if workspace else "", frozenset())
    conditions: list[ColumnElement[bool]] = [col(User.is_platform_admin).is_(True)]
    if program.created_by_user_id:
        conditions.append(col(User.id) == program.created_by_user_id)
    if extra:
        conditions.append(col(User.platform_user_id).in_(sorted(extra)))
    return list(
        (
            await session.exec(
                select(User).where(User.workspace_id == program.workspace_id, or_(*conditions)).order_by(col(User.id))
            )
        ).all()
    )


async def notify_admins(core: Runtime, session: AsyncSession, program: Program, *, key: str, text: str) -> int:
    admins = await program_admins(core, session, program)
    items = [
        Outgoing(
            key=f"{key}:admin:{a.id}",
            step="admin_note",
            target=to_user(a.platform_user_id),
            message=text_message(f"🔔 {text}"),
            program_id=program.id,
        )
        for a in admins
    ]
    return await enqueue(session, program.workspace_id, items, core.clock.now())
