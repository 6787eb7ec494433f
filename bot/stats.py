"""Program statistics: who takes part, whether pairs meet, and how they feel about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.programs import is_paused
from storage.enums import DeliveryState, MatchStatus, MembershipStatus
from storage.tables import (
    Delivery,
    Match,
    Membership,
    Program,
    Round,
    SurveyAnswer,
    SurveyInstance,
    SurveyRecipient,
    Waitlist,
)

MIN_ANSWERS = 3  # fewer answers than this and a report would point at individuals


@dataclass
class RoundStats:
    number: int
    matches: int = 0
    met: int = 0
    did_you_meet_answers: int = 0
    did_you_meet_yes: int = 0
    asked: int = 0
    answered: int = 0
    pulse: list[int] = field(default_factory=list)
    waitlisted: int = 0

    @property
    def meeting_rate(self) -> float | None:
        return self.did_you_meet_yes / self.did_you_meet_answers if self.did_you_meet_answers >= MIN_ANSWERS else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def average_pulse(self) -> float | None:
        return sum(self.pulse) / len(self.pulse) if len(self.pulse) >= MIN_ANSWERS else None


@dataclass
class ProgramStats:
    program: Program
    active: int = 0
    paused: int = 0
    invited: int = 0
    left: int = 0
    waitlisted: int = 0
    rounds: list[RoundStats] = field(default_factory=list)
    deliveries_sent: int = 0
    deliveries_pending: int = 0
    deliveries_failed: int = 0

    def overall(self) -> RoundStats:
        total = RoundStats(number=0)
        for r in self.rounds:
            total.matches += r.matches
            total.met += r.met
            total.did_you_meet_answers += r.did_you_meet_answers
            total.did_you_meet_yes += r.did_you_meet_yes
            total.asked += r.asked
            total.answered += r.answered
            total.pulse.extend(r.pulse)
            total.waitlisted += r.waitlisted
        return total


async def program_stats(session: AsyncSession, program: Program, now: datetime) -> ProgramStats:
    stats = ProgramStats(program=program)
    for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all():
        if m.status == MembershipStatus.ACTIVE.value:
            if is_paused(m, now):
                stats.paused += 1
            else:
                stats.active += 1
        elif m.status == MembershipStatus.INVITED.value:
            stats.invited += 1
        else:
            stats.left += 1
    rounds = (await session.exec(select(Round).where(Round.program_id == program.id)
                                 .order_by(col(Round.number)))).all()
    for rnd in rounds:
        rs = RoundStats(number=rnd.number)
        matches = (await session.exec(select(Match).where(Match.round_id == rnd.id))).all()
        rs.matches = len(matches)
        rs.met = sum(1 for m in matches if m.met_at is not None or m.status == MatchStatus.MET.value)
        rs.waitlisted = len((await session.exec(select(Waitlist).where(Waitlist.round_id == rnd.id))).all())
        instances = (await session.exec(select(SurveyInstance).where(SurveyInstance.round_id == rnd.id))).all()
        for inst in instances:
            recipients = (await session.exec(select(SurveyRecipient).where(
                SurveyRecipient.instance_id == inst.id))).all()
            rs.asked += len(recipients)
            rs.answered += sum(1 for r in recipients if r.answered)
            answers = (await session.exec(select(SurveyAnswer).where(SurveyAnswer.instance_id == inst.id))).all()
            for a in answers:
                if inst.definition_id == "did_you_meet" and a.question_id == "met":
                    rs.did_you_meet_answers += 1
                    rs.did_you_meet_yes += a.value == "yes"
                elif inst.definition_id == "pulse" and a.question_id == "match_rating" and a.value.isdigit():
                    rs.pulse.append(int(a.value))
        stats.rounds.append(rs)
    stats.waitlisted = stats.rounds[-1].waitlisted if stats.rounds else 0
    counts = (await session.exec(select(Delivery.state, func.count()).where(Delivery.program_id == program.id)
                                 .group_by(Delivery.state))).all()
    by_state = dict(counts)
    stats.deliveries_sent = by_state.get(DeliveryState.SENT.value, 0)
    stats.deliveries_pending = by_state.get(DeliveryState.PENDING.value, 0) + by_state.get(
        DeliveryState.SENDING.value, 0)
    stats.deliveries_failed = by_state.get(DeliveryState.FAILED.value, 0)
    return stats


def pct(value: float | None) -> str:
    return "not enough answers" if value is None else f"{value:.0%}"


def avg(value: float | None) -> str:
    return "not enough answers" if value is None else f"{value:.1f} / 5"
