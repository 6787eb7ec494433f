"""A person's own view: current matches, next chat, open surveys, pauses."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import show
from bot.programs.matches import members_of
from bot.programs.membership import is_paused, memberships_of
from storage.enums import MatchStatus, MeetingState
from storage.tables import Match, MatchMember, Meeting, Program, SurveyInstance, SurveyRecipient, User


async def current_matches(session: AsyncSession, user: User) -> list[tuple[Match, Program, list[User]]]:
    """Every match of this person that hasn't ended, newest first, with the others in it."""
    rows = (
        await session.exec(
            select(Match, Program)
            .join(MatchMember, col(MatchMember.match_id) == Match.id)
            .join(Program, col(Program.id) == Match.program_id)
            .where(MatchMember.user_id == user.id, col(Match.status).not_in([MatchStatus.ENDED.value]))
            .order_by(col(Match.id).desc())
        )
    ).all()
    out = []
    for match, program in rows:  # every live match: a mentor may have several mentees in one program
        others = [u for _, u in await members_of(session, match.id) if u.id != user.id]
        out.append((match, program, others))
    return out


async def next_meeting(session: AsyncSession, user: User, now) -> Meeting | None:  # noqa: ANN001
    return (
        await session.exec(
            select(Meeting)
            .join(MatchMember, col(MatchMember.match_id) == Meeting.match_id)
            .where(
                MatchMember.user_id == user.id,
                Meeting.state == MeetingState.CONFIRMED.value,
                col(Meeting.start_at) > now,
            )
            .order_by(col(Meeting.start_at))
        )
    ).first()


async def open_surveys(session: AsyncSession, user: User) -> list[SurveyInstance]:
    return list(
        (
            await session.exec(
                select(SurveyInstance)
                .join(SurveyRecipient, col(SurveyRecipient.instance_id) == SurveyInstance.id)
                .where(
                    SurveyRecipient.user_id == user.id,
                    col(SurveyRecipient.answered).is_(False),
                    col(SurveyInstance.closed_at).is_(None),
                )
                .order_by(col(SurveyInstance.id))
            )
        ).all()
    )


async def status_lines(core: Runtime, session: AsyncSession, user: User) -> list[str]:
    now = core.clock.now()
    lines: list[str] = []
    memberships = await memberships_of(session, user.id)
    if not memberships:
        return ["You're not in any program yet. `join` one to get matched."]
    for m in memberships:
        if is_paused(m, now):
            assert m.paused_until is not None
            lines.append(f"⏸ Paused until {show(m.paused_until, user.timezone)}.")
            break
    for match, program, others in await current_matches(session, user):
        names = ", ".join(o.display_name for o in others) or "nobody"
        lines.append(f"🤝 {program.name}: matched with {names} ({match.status.replace('_', ' ')}).")
    meeting = await next_meeting(session, user, now)
    if meeting is not None and meeting.start_at is not None:
        lines.append(f"☕ Next chat: {show(meeting.start_at, user.timezone)}.")
    surveys = await open_surveys(session, user)
    if surveys:
        lines.append(f"📝 {len(surveys)} open survey(s) waiting for a tap.")
    if len(lines) == 0:
        lines.append("No match right now; you'll be in the next round.")
    return lines
