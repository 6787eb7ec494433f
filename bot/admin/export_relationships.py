"""CSV exports of what mentoring pairs agreed and aimed for: ``goals.csv`` and ``agreements.csv``."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.admin.csv_format import csv_text, iso
from storage.tables import Agreement, Goal, Match, Program, User

GOAL_COLUMNS = ("match_id", "platform_user_id", "goal", "status", "updated_at")
AGREEMENT_COLUMNS = ("match_id", "cadence", "medium", "agreed_at")


async def goals_csv(session: AsyncSession, program: Program) -> str:
    rows = (
        await session.exec(
            select(Goal, User.platform_user_id)
            .join(Match, col(Match.id) == Goal.match_id)
            .outerjoin(User, col(User.id) == Goal.owner_user_id)
            .where(Match.program_id == program.id)
            .order_by(col(Goal.match_id), col(Goal.position))
        )
    ).all()
    return csv_text(
        GOAL_COLUMNS,
        [[g.match_id, owner or "", g.text, g.status, iso(g.updated_at or g.created_at)] for g, owner in rows],
    )


async def agreements_csv(session: AsyncSession, program: Program) -> str:
    rows = (
        await session.exec(
            select(Agreement)
            .join(Match, col(Match.id) == Agreement.match_id)
            .where(Match.program_id == program.id)
            .order_by(col(Agreement.match_id))
        )
    ).all()
    return csv_text(AGREEMENT_COLUMNS, [[a.match_id, a.cadence, a.medium, iso(a.confirmed_at)] for a in rows])
