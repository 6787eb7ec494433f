"""When is the next thing due? Lets a scheduler (or the demo's simulated clock) sleep until then."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from bot.engagement.surveys import REMIND_AFTER
from bot.kernel.runtime import Runtime
from bot.schedule import calendar
from storage.enums import DeliveryState, MeetingState, MembershipStatus, ProgramStatus
from storage.tables import Delivery, Meeting, Membership, Program, SurveyInstance


async def next_due(core: Runtime, after: datetime) -> datetime | None:
    """The earliest instant after ``after`` at which a tick would have something to do."""
    candidates: list[datetime] = []
    async with core.db.session() as session:
        for program in (await session.exec(select(Program).where(Program.status == ProgramStatus.ACTIVE.value))).all():
            for kind in ("round", "prompt", "checkin", "icebreaker"):
                when = calendar.next_occurrence(program, after, kind)
                if when is not None:
                    candidates.append(when)
        queries = [
            select(func.min(Meeting.reminder_at)).where(
                Meeting.state == MeetingState.CONFIRMED.value, col(Meeting.reminder_at).is_not(None)
            ),
            select(func.min(SurveyInstance.opened_at)).where(
                col(SurveyInstance.closed_at).is_(None), col(SurveyInstance.reminded_at).is_(None)
            ),
            select(func.min(SurveyInstance.closes_at)).where(col(SurveyInstance.closed_at).is_(None)),
            select(func.min(Membership.paused_until)).where(
                col(Membership.paused_until).is_not(None), Membership.status == MembershipStatus.ACTIVE.value
            ),
            select(func.min(Delivery.next_attempt_at)).where(Delivery.state == DeliveryState.PENDING.value),
        ]
        # one round trip for all of them (the demo asks before every step of its clock, a server every tick)
        values = (await session.exec(select(*(q.scalar_subquery() for q in queries)))).one()
        for index, value in enumerate(values):
            if value is None:
                continue
            if index == 1:
                value = value + REMIND_AFTER
            candidates.append(_aware(value))
    return min(candidates) if candidates else None


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
