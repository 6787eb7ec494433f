"""Program statistics: who takes part, whether pairs meet, and how they feel about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engagement.survey_ids import DID_YOU_MEET, MATCH_RATING, MET, PULSE, YES
from bot.programs.membership import is_paused
from storage.enums import DeliveryState, GoalStatus, MembershipStatus
from storage.tables import (
    Delivery,
    Goal,
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
    met: int = 0  # matches where someone confirmed they met (met_at is set only by a confirmation)
    asked_matches: int = 0  # matches asked "did you meet?" at least once, or that confirmed meeting anyway
    did_you_meet_answers: int = 0
    did_you_meet_yes: int = 0
    asked: int = 0
    answered: int = 0
    pulse: list[int] = field(default_factory=list)
    waitlisted: int = 0
    goals: int = 0  # goals the round's pairs set
    goals_done: int = 0
    goal_pairs: int = 0  # the round's pairs with at least one goal

    @property
    def meeting_rate(self) -> float | None:
        """Met matches out of the matches asked whether they met: "met" can never exceed what the rate says.

        Too few asked matches and the figure would point at people, so there is none.
        """
        return self.met / self.asked_matches if self.asked_matches >= MIN_ANSWERS else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def average_pulse(self) -> float | None:
        return sum(self.pulse) / len(self.pulse) if len(self.pulse) >= MIN_ANSWERS else None

    @property
    def goal_rate(self) -> float | None:
        """Goals done / goals set (goals are the pair's own, not anonymous answers: no minimum)."""
        return self.goals_done / self.goals if self.goals else None


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
            total.asked_matches += r.asked_matches
            total.did_you_meet_answers += r.did_you_meet_answers
            total.did_you_meet_yes += r.did_you_meet_yes
            total.asked += r.asked
            total.answered += r.answered
            total.pulse.extend(r.pulse)
            total.waitlisted += r.waitlisted
            total.goals += r.goals
            total.goals_done += r.goals_done
            total.goal_pairs += r.goal_pairs
        return total


def _count_member(stats: ProgramStats, member: Membership, now: datetime) -> None:
    """Active members split into paused and available, so admins see who can actually be matched."""
    if member.status == MembershipStatus.ACTIVE.value:
        if is_paused(member, now):
            stats.paused += 1
        else:
            stats.active += 1
    elif member.status == MembershipStatus.INVITED.value:
        stats.invited += 1
    else:
        stats.left += 1


async def _count_matches(session: AsyncSession, program: Program, by_id: dict[int | None, RoundStats]) -> None:
    """Matches per round, how many were asked whether they met, and how many confirmed they did."""
    asked = select(SurveyInstance.match_id).where(
        SurveyInstance.program_id == program.id, SurveyInstance.definition_id == DID_YOU_MEET
    )
    asked_ids = {match_id for match_id in (await session.exec(asked)).all()}
    for match_id, round_id, met_at in (
        await session.exec(select(Match.id, Match.round_id, Match.met_at).where(Match.program_id == program.id))
    ).all():
        rs = by_id.get(round_id)
        if rs is not None:
            rs.matches += 1
            rs.met += met_at is not None
            rs.asked_matches += met_at is not None or match_id in asked_ids


async def _count_goals(session: AsyncSession, program: Program, by_id: dict[int | None, RoundStats]) -> None:
    """Goals set and done per round, and how many pairs set any."""
    for round_id, pairs, goals, done in (
        await session.exec(
            select(
                Match.round_id,
                func.count(func.distinct(Goal.match_id)),
                func.count(),
                func.sum(case((col(Goal.status) == GoalStatus.DONE.value, 1), else_=0)),
            )
            .join(Match, col(Match.id) == Goal.match_id)
            .where(Match.program_id == program.id)
            .group_by(col(Match.round_id))
        )
    ).all():
        rs = by_id.get(round_id)
        if rs is not None:
            rs.goal_pairs, rs.goals, rs.goals_done = pairs, goals, int(done or 0)


async def _count_waitlisted(session: AsyncSession, program: Program, by_id: dict[int | None, RoundStats]) -> None:
    """People left without a match per round."""
    for round_id, count in (
        await session.exec(
            select(Waitlist.round_id, func.count())
            .join(Round, col(Round.id) == Waitlist.round_id)
            .where(Round.program_id == program.id)
            .group_by(col(Waitlist.round_id))
        )
    ).all():
        if round_id in by_id:
            by_id[round_id].waitlisted = count


async def _waiting_now(session: AsyncSession, latest: Round) -> int:
    """People waiting now: on the latest round's waitlist and still active in the program."""
    return (
        await session.exec(
            select(func.count())
            .select_from(Waitlist)
            .join(
                Membership,
                (col(Membership.user_id) == Waitlist.user_id) & (col(Membership.program_id) == latest.program_id),
            )
            .where(Waitlist.round_id == latest.id, Membership.status == MembershipStatus.ACTIVE.value)
        )
    ).one()


async def _count_responses(session: AsyncSession, program: Program, by_id: dict[int | None, RoundStats]) -> None:
    """Survey recipients per round and how many answered: the response rate."""
    for round_id, answered, count in (
        await session.exec(
            select(SurveyInstance.round_id, SurveyRecipient.answered, func.count())
            .join(SurveyInstance, col(SurveyInstance.id) == SurveyRecipient.instance_id)
            .where(SurveyInstance.program_id == program.id)
            .group_by(col(SurveyInstance.round_id), col(SurveyRecipient.answered))
        )
    ).all():
        rs = by_id.get(round_id)
        if rs is not None:
            rs.asked += count
            rs.answered += count if answered else 0


def _count_answer(rs: RoundStats, definition_id: str, question_id: str, value: str) -> None:
    """A "did you meet?" or pulse answer added to its round's tallies."""
    if definition_id == DID_YOU_MEET and question_id == MET:
        rs.did_you_meet_answers += 1
        rs.did_you_meet_yes += value == YES
    elif definition_id == PULSE and question_id == MATCH_RATING and value.isdigit():
        rs.pulse.append(int(value))


async def _count_answers(session: AsyncSession, program: Program, by_id: dict[int | None, RoundStats]) -> None:
    """Meeting and pulse answers per round, the two surveys the stats report on."""
    for round_id, definition_id, question_id, value in (
        await session.exec(
            select(SurveyInstance.round_id, SurveyInstance.definition_id, SurveyAnswer.question_id, SurveyAnswer.value)
            .join(SurveyInstance, col(SurveyInstance.id) == SurveyAnswer.instance_id)
            .where(
                SurveyInstance.program_id == program.id,
                col(SurveyInstance.definition_id).in_([DID_YOU_MEET, PULSE]),
            )
            .order_by(col(SurveyAnswer.id))
        )
    ).all():
        rs = by_id.get(round_id)
        if rs is not None:
            _count_answer(rs, definition_id, question_id, value)


async def _count_deliveries(session: AsyncSession, stats: ProgramStats, program: Program) -> None:
    """Messages sent, still on their way, and failed: the health of delivery."""
    counts = (
        await session.exec(
            select(Delivery.state, func.count()).where(Delivery.program_id == program.id).group_by(col(Delivery.state))
        )
    ).all()
    by_state = dict(counts)
    stats.deliveries_sent = by_state.get(DeliveryState.SENT.value, 0)
    stats.deliveries_pending = by_state.get(DeliveryState.PENDING.value, 0) + by_state.get(
        DeliveryState.SENDING.value, 0
    )
    stats.deliveries_failed = by_state.get(DeliveryState.FAILED.value, 0)


async def program_stats(session: AsyncSession, program: Program, now: datetime) -> ProgramStats:
    """Members, rounds, answers and deliveries of a program in a fixed handful of queries."""
    stats = ProgramStats(program=program)
    for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all():
        _count_member(stats, m, now)
    rounds = (await session.exec(select(Round).where(Round.program_id == program.id).order_by(col(Round.number)))).all()
    by_id = {rnd.id: RoundStats(number=rnd.number) for rnd in rounds}
    stats.rounds = list(by_id.values())
    # a fixed handful of queries whatever the number of rounds (admins' home views call this often)
    await _count_matches(session, program, by_id)
    await _count_waitlisted(session, program, by_id)
    await _count_goals(session, program, by_id)
    await _count_responses(session, program, by_id)
    await _count_answers(session, program, by_id)
    stats.waitlisted = await _waiting_now(session, rounds[-1]) if rounds else 0
    await _count_deliveries(session, stats, program)
    return stats


def pct(value: float | None) -> str:
    return "not enough answers" if value is None else f"{value:.0%}"


def avg(value: float | None) -> str:
    return "not enough answers" if value is None else f"{value:.1f} / 5"


def goals_line(total: RoundStats) -> str:
    """'Goals: 7 of 12 done (58%) across 5 pairs', over the program's pairs that set goals."""
    if not total.goals:
        return "Goals: none set yet"
    pairs = "pair" if total.goal_pairs == 1 else "pairs"
    return f"Goals: {total.goals_done} of {total.goals} done ({total.goals_done / total.goals:.0%}) across {total.goal_pairs} {pairs}"
