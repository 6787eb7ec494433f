"""Matching rounds: build the problem from the database, run the engine, store groups, write intros."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import matching
from bot.kernel.gcpause import collector_paused
from bot.kernel.runtime import Runtime
from bot.programs.matches import end_match
from bot.programs.membership import is_available
from bot.relationships.intros import enqueue_round_messages
from storage.bulk import insert_returning_ids, insert_rows
from storage.enums import EndReason, MatchStatus, MeetingState, MembershipStatus, ProgramKind, Role, RoundStatus
from storage.tables import Avoidance, Match, MatchMember, Meeting, Membership, Program, Round, User, Waitlist

log = logging.getLogger("tandem.rounds")


@dataclass(frozen=True)
class Pool:
    """Who can be matched this round, and who is still busy in an ongoing mentoring pair."""

    members: list[tuple[Membership, User]]
    continuing: dict[int, int]  # mentor user id → mentees they already have this round


def round_seed(program_id: int, number: int) -> int:
    digest = hashlib.sha256(f"tandem:{program_id}:{number}".encode()).hexdigest()
    return int(digest[:8], 16) % 2**31  # fits a signed 32-bit column (PostgreSQL INTEGER)


async def pool_for(session: AsyncSession, program: Program, now: datetime) -> Pool:
    rows = (
        await session.exec(
            select(Membership, User)
            .join(User, col(User.id) == Membership.user_id)
            .where(Membership.program_id == program.id, Membership.status == MembershipStatus.ACTIVE.value)
            .order_by(col(User.id))
        )
    ).all()
    available = [(m, u) for m, u in rows if is_available(m, now)]
    continuing: dict[int, int] = {}
    if program.kind == ProgramKind.MENTORING.value:
        busy = await ongoing_mentoring_pairs(session, program, now)
        busy_mentees: set[int] = set()
        for mentor_id, mentee_id in busy:  # a rematch ended its own match, so only that pair is free again
            busy_mentees.add(mentee_id)
            continuing[mentor_id] = continuing.get(mentor_id, 0) + 1
        available = [(m, u) for m, u in available if u.id not in busy_mentees]
    return Pool(members=available, continuing=continuing)


async def ongoing_mentoring_pairs(session: AsyncSession, program: Program, now: datetime) -> list[tuple[int, int]]:
    """(mentor, mentee) pairs whose relationship hasn't ended: busy until it ends (after the wrap-up, too)."""
    matches = (
        await session.exec(
            select(Match).where(Match.program_id == program.id, col(Match.status).not_in([MatchStatus.ENDED.value]))
        )
    ).all()
    by_match: dict[int, list[MatchMember]] = {}
    if matches:  # every member of those matches in one query, not one per match
        for member in (
            await session.exec(
                select(MatchMember)
                .where(col(MatchMember.match_id).in_([m.id for m in matches]))
                .order_by(col(MatchMember.id))
            )
        ).all():
            by_match.setdefault(member.match_id, []).append(member)
    pairs = []
    for match in matches:
        members = by_match.get(match.id or 0, [])
        mentors = [m.user_id for m in members if m.role == Role.MENTOR.value]
        mentees = [m.user_id for m in members if m.role == Role.MENTEE.value]
        if mentors and mentees:
            pairs.append((mentors[0], mentees[0]))
    return pairs


async def rematch_avoids(session: AsyncSession, program: Program, pool: Pool) -> list[tuple[int, int]]:
    """(person, old partner) pairs to keep apart next round, from the matches a rematch ended since the last one.

    A pair ended by "not a good fit", "we can't meet" or an admin avoids each other. In a bigger group only
    whoever asked (``wants_rematch``, set with the answer) is kept from the others, who may meet again. An
    admin's rematch of a group, with nobody flagged, keeps everyone apart. Avoid is a hard rule in the engine
    for that one round (history is only a soft penalty); later rounds may pair them again.
    """
    since = (
        await session.exec(
            select(Round.matched_at)
            .where(Round.program_id == program.id, col(Round.matched_at).is_not(None))
            .order_by(col(Round.number).desc())
        )
    ).first()
    ended = select(Match.id).where(Match.program_id == program.id, Match.end_reason == EndReason.REMATCH.value)
    if since is not None:
        ended = ended.where(col(Match.ended_at) > since)
    match_ids = sorted({i for i in (await session.exec(ended)).all() if i is not None})
    if not match_ids:
        return []
    groups: dict[int, list[int]] = {}
    for match_id, user_id in (
        await session.exec(
            select(MatchMember.match_id, MatchMember.user_id).where(col(MatchMember.match_id).in_(match_ids))
        )
    ).all():
        groups.setdefault(match_id, []).append(user_id)
    asked = {u.id for m, u in pool.members if m.wants_rematch}
    in_pool = {u.id for _, u in pool.members}
    pairs = {pair for group in groups.values() for pair in kept_apart(group, asked)}
    return sorted((a, b) for a, b in pairs if a in in_pool)


def kept_apart(group: list[int], asked: set[int | None]) -> set[tuple[int, int]]:
    """Both directions between whoever asked and the rest (everyone, in a pair or when nobody asked)."""
    askers = [u for u in group if u in asked] if len(group) > 2 else []
    askers = askers or group
    return {(a, b) for a in askers for b in group if a != b} | {(b, a) for a in askers for b in group if a != b}


async def _avoid_lists(session: AsyncSession, program: Program, pool: Pool) -> dict[int, list[str]]:
    """Whom each person must not meet: their own avoid list plus, this round, a partner they asked to leave."""
    user_ids = [u.id for _, u in pool.members]
    avoid: dict[int, list[str]] = {}
    if user_ids:
        for row in (await session.exec(select(Avoidance).where(col(Avoidance.user_id).in_(user_ids)))).all():
            avoid.setdefault(row.user_id, []).append(str(row.avoided_user_id))
    for person, partner in await rematch_avoids(session, program, pool):
        for a, b in ((person, partner), (partner, person)):
            if str(b) not in avoid.setdefault(a, []):
                avoid[a].append(str(b))
    return avoid


def _participant(m: Membership, u: User, pool: Pool, avoid: dict[int, list[str]]) -> dict[str, Any] | None:
    """One person for the engine, or None for a mentor whose places are all taken by ongoing mentees."""
    capacity = max(0, m.capacity - pool.continuing.get(u.id or 0, 0)) if m.role == Role.MENTOR.value else 1
    if m.role == Role.MENTOR.value and capacity == 0:
        return None
    return {
        "id": str(u.id),
        "name": u.display_name,
        "role": m.role,
        "capacity": max(1, capacity),
        "timezone": u.timezone,
        "working_hours": [u.work_start, u.work_end],
        "department": m.department or "",
        "skills_offered": m.skills_offered,
        "skills_wanted": m.skills_wanted,
        "interests": m.interests,
        "avoid": avoid.get(u.id or 0, []),
        "paused": False,
    }


async def _history(session: AsyncSession, program: Program) -> list[dict[str, Any]]:
    """Past groups with their round number, so the engine can avoid repeating them."""
    past = (
        await session.exec(  # ids only: a long-running program has every week's groups here
            select(Match.id, Round.number)
            .join(Round, col(Round.id) == Match.round_id)
            .where(Match.program_id == program.id)
        )
    ).all()
    members_by_match: dict[int, list[int]] = {}
    for match_id, user_id in (
        await session.exec(  # every past member in one query, not one per match
            select(MatchMember.match_id, MatchMember.user_id)
            .join(Match, col(Match.id) == MatchMember.match_id)
            .where(Match.program_id == program.id)
            .order_by(col(MatchMember.id))
        )
    ).all():
        members_by_match.setdefault(match_id, []).append(user_id)
    return [
        {"members": [str(x) for x in members_by_match.get(match_id or 0, [])], "round": past_number}
        for match_id, past_number in past
    ]


async def build_problem(
    session: AsyncSession, program: Program, number: int, now: datetime, pool: Pool
) -> dict[str, Any]:
    """The engine's JSON contract (docs/matching.md), with our user ids as participant ids."""
    avoid = await _avoid_lists(session, program, pool)
    participants = [p for m, u in pool.members if (p := _participant(m, u, pool, avoid)) is not None]
    history = await _history(session, program)
    weights = dict(program.weights)
    weights.setdefault("prefer_same_department", not program.prefer_different_department)
    return {
        "mode": "mentoring" if program.kind == ProgramKind.MENTORING.value else "peer",
        "group_size": program.group_size,
        "avoid_repeat_rounds": program.avoid_repeat_rounds,
        "seed": round_seed(program.id or 0, number),
        "participants": participants,
        "history": history,
        "weights": weights,
    }


async def next_round_number(session: AsyncSession, program_id: int | None) -> int:
    last = (
        await session.exec(
            select(Round.number).where(Round.program_id == program_id).order_by(col(Round.number).desc())
        )
    ).first()
    return (last or 0) + 1


def preview(problem: dict[str, Any]) -> dict[str, Any]:
    return matching.result_to_json(matching.solve(matching.problem_from_json(problem)))


async def _store_groups(
    session: AsyncSession, program_id: int, round_id: int, result: dict[str, Any], pool: Pool, now: datetime
) -> None:
    """The engine's groups as matches with their members, and everyone still waiting on the waitlist."""
    roles = {str(u.id): m.role for m, u in pool.members}
    await session.flush()  # what the round changed so far goes first, as it always did
    match_ids = await insert_returning_ids(
        session,
        Match,
        [
            {
                "round_id": round_id,
                "program_id": program_id,
                "score": float(group.get("score", 0.0)),
                "reasons": list(group.get("reasons", [])),
                "status": MatchStatus.INTRODUCED.value,
                "meetings_count": 0,
                "created_at": now,
            }
            for group in result["groups"]
        ],
    )
    members = [
        {"match_id": match_id, "user_id": int(member), "role": roles.get(member, "peer")}
        for match_id, group in zip(match_ids, result["groups"], strict=True)
        for member in group["members"]
    ]
    await insert_rows(session, MatchMember, members)
    waiting = [
        {"round_id": round_id, "user_id": int(item["id"]), "reason": item["reason"]}
        for item in result["unmatched"]
        if int(item["id"]) not in pool.continuing  # a mentor who still has a mentee isn't waiting for anyone
    ]
    await insert_rows(session, Waitlist, waiting)


async def run_round(core: Runtime, program_id: int, number: int | None = None) -> Round:
    """Match a round once: a round that already exists is returned as it is (steps may be re-run)."""
    now = core.clock.now()
    with collector_paused():  # a big round builds objects by the hundred thousand (bot/kernel/gcpause.py)
        return await _run_round(core, program_id, number, now)


async def _run_round(core: Runtime, program_id: int, number: int | None, now: datetime) -> Round:
    async with core.db.transaction() as session:
        program = await session.get(Program, program_id)
        if program is None:
            raise LookupError(f"program {program_id} does not exist")
        assert program.id is not None  # it was just read by its id
        if number is None:
            number = await next_round_number(session, program.id)
        existing = (
            await session.exec(select(Round).where(Round.program_id == program.id, Round.number == number))
        ).first()
        if existing is not None and existing.status != RoundStatus.PLANNED.value:
            return existing
        pool = await pool_for(session, program, now)
        problem = await build_problem(session, program, number, now, pool)
        result = preview(problem)
        rnd = existing or Round(program_id=program_id, number=number, seed=problem["seed"], scheduled_for=now)
        rnd.status = RoundStatus.MATCHED.value
        rnd.matched_at = now
        rnd.stats = dict(result.get("stats", {}))
        session.add(rnd)
        await session.flush()
        assert rnd.id is not None  # the flush gave it one
        if program.kind == ProgramKind.PEER.value:
            await _end_previous(session, program, rnd, now)
        await _store_groups(session, program_id, rnd.id or 0, result, pool, now)
        for m, _ in pool.members:
            if m.wants_rematch:  # only the few who asked: setting the rest would change nothing, slowly
                m.wants_rematch = False
        await session.flush()
        await enqueue_round_messages(core, session, program, rnd)
        log.info(
            "program %s round %s: %d groups, %d unmatched",
            program.id,
            number,
            len(result["groups"]),
            len(result["unmatched"]),
        )
        return rnd


async def _end_previous(session: AsyncSession, program: Program, current: Round, now: datetime) -> None:
    """Peer groups last one round: when the next one starts, every earlier group ends, met or not.

    A group with a booked chat still ahead ends at its own end instead: after that chat, once the pair had
    time to say how it went (:func:`end_finished_peer_groups`).
    """
    for match in await _earlier_peer_groups(session, program.id, current.id, now):
        end_match(match, EndReason.ROUND_OVER, now)


AFTER_LAST_CHAT = timedelta(days=2)  # a group whose round is over still hears "how did it go?" about its chat


async def _earlier_peer_groups(
    session: AsyncSession, program_id: int | None, current_round: int | None, now: datetime
) -> list[Match]:
    """Live groups of earlier rounds with no booked chat still ahead (or just past, awaiting "how did it go?")."""
    booked_ahead = (
        select(Meeting.match_id)
        .where(
            Meeting.state == MeetingState.CONFIRMED.value,
            col(Meeting.end_at) > now - AFTER_LAST_CHAT,
        )
        .scalar_subquery()
    )
    return list(
        (
            await session.exec(
                select(Match).where(
                    Match.program_id == program_id,
                    Match.round_id != current_round,
                    col(Match.status) != MatchStatus.ENDED.value,
                    col(Match.id).not_in(booked_ahead),
                )
            )
        ).all()
    )


async def end_finished_peer_groups(core: Runtime) -> int:
    """Each tick: end the earlier rounds' peer groups whose last booked chat is over."""
    now = core.clock.now()
    ended = 0
    async with core.db.transaction() as session:
        latest = (
            await session.exec(
                select(Program.id, func.max(Round.id))
                .join(Round, col(Round.program_id) == Program.id)
                .where(Program.kind == ProgramKind.PEER.value, col(Round.matched_at).is_not(None))
                .group_by(col(Program.id))
            )
        ).all()
        for program_id, round_id in latest:
            for match in await _earlier_peer_groups(session, program_id, round_id, now):
                ended += end_match(match, EndReason.ROUND_OVER, now)
    return ended
