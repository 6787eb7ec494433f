"""Who is in which match: the read side of matches, shared by every floor above (intros, surveys, status)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import EndReason, MatchStatus
from storage.tables import Match, MatchMember, User

Group = tuple[Match, list[tuple[MatchMember, User]]]


async def match_groups(session: AsyncSession, round_id: int | None) -> list[Group]:
    matches = (await session.exec(select(Match).where(Match.round_id == round_id).order_by(col(Match.id)))).all()
    members: dict[int, list[tuple[MatchMember, User]]] = {}
    for mm, user in (
        await session.exec(  # the whole round's members in one query, not one per match
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .join(Match, col(Match.id) == MatchMember.match_id)
            .where(Match.round_id == round_id)
            .order_by(col(MatchMember.id))
        )
    ).all():
        members.setdefault(mm.match_id, []).append((mm, user))
    return [(match, members.get(match.id or 0, [])) for match in matches]


async def members_of(session: AsyncSession, match_id: int | None) -> list[tuple[MatchMember, User]]:
    rows = (
        await session.exec(
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .where(MatchMember.match_id == match_id)
            .order_by(col(MatchMember.id))
        )
    ).all()
    return [(mm, u) for mm, u in rows]


async def members_by_match(session: AsyncSession, match_ids: list[int]) -> dict[int, list[tuple[MatchMember, User]]]:
    """``members_of`` for many matches in one query (a tick looks at every live match, not one per query)."""
    members: dict[int, list[tuple[MatchMember, User]]] = {i: [] for i in match_ids}
    if not match_ids:
        return members
    for mm, user in (
        await session.exec(
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .where(col(MatchMember.match_id).in_(match_ids))
            .order_by(col(MatchMember.id))
        )
    ).all():
        members.setdefault(mm.match_id, []).append((mm, user))
    return members


async def match_users(session: AsyncSession, match_id: int | None) -> list[User]:
    """The people in one match, by user id (the order booking messages list them in)."""
    return list(
        (
            await session.exec(
                select(User)
                .join(MatchMember, col(MatchMember.user_id) == User.id)
                .where(MatchMember.match_id == match_id)
                .order_by(col(User.id))
            )
        ).all()
    )


def end_match(match: Match, reason: EndReason, now: datetime) -> bool:
    """End one relationship (and only that one): nothing is sent about it any more. False if it had ended."""
    if match.status == MatchStatus.ENDED.value:
        return False
    match.status = MatchStatus.ENDED.value
    match.ended_at = now
    match.end_reason = reason.value
    return True


def names_of_others(viewer: User, members: list[User]) -> str:
    """Everyone in the match but the reader: "Ana", "Ana and Ben", "Ana, Ben and Cy" ("" when alone)."""
    others = [u.display_name for u in members if u.id != viewer.id]
    if len(others) <= 1:
        return "".join(others)
    return ", ".join(others[:-1]) + " and " + others[-1]


def about_line(viewer: User, members: list[User]) -> str | None:
    """A person in several matches must know which one a message is about: "About your match with Ana"."""
    names = names_of_others(viewer, members)
    return f"About your match with {names}" if names else None
