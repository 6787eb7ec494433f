"""A pair's own goals: read in bulk, quoted back in their weekly prompts, shown with where each stands."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.kernel.messages import Section, Text
from storage.enums import GoalStatus
from storage.tables import Goal

STATUS_LABELS = {
    GoalStatus.NOT_STARTED.value: "not started",
    GoalStatus.ON_TRACK.value: "on track",
    GoalStatus.STUCK.value: "stuck",
    GoalStatus.DONE.value: "done",
}
STATUS_ICONS = {
    GoalStatus.NOT_STARTED.value: "⚪",
    GoalStatus.ON_TRACK.value: "🟢",
    GoalStatus.STUCK.value: "🟠",
    GoalStatus.DONE.value: "✅",
}


async def goals_by_match(session: AsyncSession, match_ids: Iterable[int | None]) -> dict[int, list[Goal]]:
    """Every goal of these matches in one query, in the order the pair wrote them."""
    ids = sorted({i for i in match_ids if i is not None})
    if not ids:
        return {}
    found: dict[int, list[Goal]] = {}
    for goal in (
        await session.exec(select(Goal).where(col(Goal.match_id).in_(ids)).order_by(col(Goal.position)))
    ).all():
        found.setdefault(goal.match_id, []).append(goal)
    return found


def goal_reminder(goals: list[Goal], week: int) -> Section | None:
    """One open goal a week, in turn: "You set 'lead a design review'; where is it now?"."""
    open_goals = [g for g in goals if g.status != GoalStatus.DONE.value]
    if not open_goals:
        return None
    goal = open_goals[week % len(open_goals)]
    return Section(text=Text.of(f"🎯 You set “{goal.text}”; where is it now? ({STATUS_LABELS[goal.status]})"))


def goal_lines(goals: list[Goal]) -> list[str]:
    return [f"{STATUS_ICONS[g.status]} {g.text} ({STATUS_LABELS[g.status]})" for g in goals]
