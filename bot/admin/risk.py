"""At-risk pairs: who hasn't met, who ignores intros, who is unhappy, so admins can step in early.

Signals (only from named surveys; anonymous answers never point at a pair):
- no meeting after two prompts (conversation prompts and "did you meet?" check-ins both count),
- unanswered intros: someone who ignored three intros in a row is paused and told why,
- a low pulse rating (2 or less) in the last two weeks,
- a "not a good fit" answer in the last two weeks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.registry import ButtonKind, NoValue
from bot.delivery.notify import program_admins
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.engagement.survey_ids import DID_YOU_MEET, FIT, GOOD_FIT, MATCH_RATING, NOT_A_FIT, PULSE
from bot.kernel.messages import Actions, Context, Header, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import show
from bot.programs.buttons import RESUME
from bot.programs.membership import is_paused
from storage.enums import MatchStatus, MembershipStatus
from storage.tables import (
    AuditEntry,
    Delivery,
    Match,
    MatchMember,
    Meeting,
    Membership,
    Program,
    SurveyAnswer,
    SurveyInstance,
    SurveyRecipient,
    User,
)


class MatchRef(NamedTuple):
    match_id: int


class MemberRef(NamedTuple):
    """A person in a program (older digests sent it as "program:user"; decode still reads that)."""

    program_id: int
    user_id: int


NUDGE = ButtonKind("admin:nudge", MatchRef)
REMATCH = ButtonKind("admin:rematch", MatchRef)
PAUSE = ButtonKind("admin:pause", MemberRef)

PROMPTS_BEFORE_RISK = 2
IGNORED_INTROS_LIMIT = 3
LOW_PULSE = 2
RECENT = timedelta(days=14)
INTRO_GRACE = timedelta(days=7)  # how long people have to react to an intro before it counts as ignored
AUTO_PAUSE = timedelta(weeks=4)
_PROMPT_WEEK = re.compile(r"^match:\d+:prompt:(\d+)")


@dataclass
class RiskItem:
    match: Match
    members: list[User]
    reasons: list[str] = field(default_factory=list)


async def _members(session: AsyncSession, match_ids: list[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = {}
    if not match_ids:
        return out
    rows = (
        await session.exec(
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .where(col(MatchMember.match_id).in_(match_ids))
            .order_by(col(MatchMember.id))
        )
    ).all()
    for mm, user in rows:
        out.setdefault(mm.match_id, []).append(user)
    return out


async def prompts_sent(session: AsyncSession, match_ids: list[int]) -> dict[int, int]:
    """Prompts a match has had: distinct prompt weeks plus 'did you meet?' check-ins."""
    weeks: dict[int, set[str]] = {}
    if not match_ids:
        return {}
    for match_id, key in (
        await session.exec(
            select(Delivery.match_id, Delivery.idempotency_key).where(
                col(Delivery.match_id).in_(match_ids), Delivery.step == "prompt"
            )
        )
    ).all():
        found = _PROMPT_WEEK.match(key)
        weeks.setdefault(match_id or 0, set()).add(found.group(1) if found else key)
    for match_id, key in (
        await session.exec(
            select(SurveyInstance.match_id, SurveyInstance.key).where(
                col(SurveyInstance.match_id).in_(match_ids), SurveyInstance.definition_id == DID_YOU_MEET
            )
        )
    ).all():
        weeks.setdefault(match_id or 0, set()).add(f"checkin:{key}")
    return {m: len(keys) for m, keys in weeks.items()}


def _met(match: Match) -> bool:
    return match.met_at is not None or match.status == MatchStatus.MET.value


Flag = tuple[int, str, int | None]  # (match id, reason, user id the reason is about)


async def _open_matches(session: AsyncSession, program: Program) -> list[Match]:
    """The program's pairs that haven't ended: only they can still be helped."""
    return list(
        (
            await session.exec(
                select(Match)
                .where(Match.program_id == program.id, col(Match.status).not_in([MatchStatus.ENDED.value]))
                .order_by(col(Match.id))
            )
        ).all()
    )


def _no_meeting_flags(open_matches: list[Match], counts: dict[int, int]) -> list[Flag]:
    """Pairs that were prompted enough times and still haven't met."""
    flagged: list[Flag] = []
    for match in open_matches:
        sent = counts.get(match.id or 0, 0)
        if not _met(match) and sent >= PROMPTS_BEFORE_RISK:
            flagged.append((match.id or 0, f"no meeting yet after {sent} prompts", None))
    return flagged


async def _recent_named_answers(
    session: AsyncSession, program: Program, now: datetime
) -> list[tuple[SurveyAnswer, SurveyInstance]]:
    """Recent named answers about a pair: anonymous ones must never point at anybody."""
    return list(
        (
            await session.exec(
                select(SurveyAnswer, SurveyInstance)
                .join(SurveyInstance, col(SurveyInstance.id) == SurveyAnswer.instance_id)
                .where(
                    SurveyInstance.program_id == program.id,
                    col(SurveyInstance.anonymous).is_(False),
                    col(SurveyInstance.match_id).is_not(None),
                    col(SurveyAnswer.user_id).is_not(None),
                    col(SurveyAnswer.answered_at) >= now - RECENT,
                )
                .order_by(col(SurveyAnswer.id))
            )
        ).all()
    )


def _is_low_pulse(answer: SurveyAnswer, instance: SurveyInstance) -> bool:
    """A pulse rating low enough that the pair may be struggling."""
    return (
        instance.definition_id == PULSE
        and answer.question_id == MATCH_RATING
        and answer.value.isdigit()
        and int(answer.value) <= LOW_PULSE
    )


def _answer_flag(answer: SurveyAnswer, instance: SurveyInstance, open_ids: set[int | None]) -> Flag | None:
    """The warning an answer raises, if any: a low pulse on an open pair or a "not a good fit"."""
    if instance.match_id not in open_ids:
        return None  # an ended relationship (rematched, wrapped up, someone left) is history, not a warning sign
    if _is_low_pulse(answer, instance):
        return (instance.match_id or 0, f"pulse rating {answer.value}/5 from {{name}}", answer.user_id)
    if instance.definition_id == GOOD_FIT and answer.question_id == FIT and answer.value == NOT_A_FIT:
        return (instance.match_id or 0, "{name} said it's not a good fit", answer.user_id)
    return None


async def _ignoring(session: AsyncSession, program: Program) -> dict[int, int]:
    """How many intros in a row each member ignored, for those who ignored any."""
    return {
        m.user_id: m.ignored_intros
        for m in (
            await session.exec(
                select(Membership).where(Membership.program_id == program.id, col(Membership.ignored_intros) > 0)
            )
        ).all()
    }


def _ignored_flags(open_matches: list[Match], members: dict[int, list[User]], ignoring: dict[int, int]) -> list[Flag]:
    """Pairs where someone keeps ignoring intros, naming who."""
    flagged: list[Flag] = []
    for match in open_matches:
        for user in members.get(match.id or 0, []):
            if ignoring.get(user.id or 0):
                count = ignoring[user.id or 0]
                flagged.append((match.id or 0, f"{{name}} ignored the last {count} intro{'s' * (count > 1)}", user.id))
    return flagged


async def _gather(session: AsyncSession, flagged: list[Flag], members: dict[int, list[User]]) -> list[RiskItem]:
    """One item per flagged pair, its reasons in plain words without repeats."""
    items: dict[int, RiskItem] = {}
    for match_id, reason, user_id in flagged:
        if match_id not in items:
            match = await session.get(Match, match_id)
            if match is None:
                continue
            items[match_id] = RiskItem(match=match, members=members.get(match_id, []))
        item = items[match_id]
        name = next((u.display_name for u in item.members if u.id == user_id), "someone")
        text = reason.format(name=name)
        if text not in item.reasons:
            item.reasons.append(text)
    return sorted(items.values(), key=lambda i: i.match.id or 0)


async def find_at_risk(session: AsyncSession, program: Program, now: datetime) -> list[RiskItem]:
    """Every pair of the program that shows a warning sign, with the reasons in plain words."""
    open_matches = await _open_matches(session, program)
    open_ids = {m.id for m in open_matches}
    counts = await prompts_sent(session, [m.id for m in open_matches if m.id is not None])
    flagged = _no_meeting_flags(open_matches, counts)
    for answer, instance in await _recent_named_answers(session, program, now):
        flag = _answer_flag(answer, instance, open_ids)
        if flag is not None:
            flagged.append(flag)
    ignoring = await _ignoring(session, program)
    members = await _members(
        session, [m.id for m in open_matches if m.id is not None] + [match_id for match_id, _, _ in flagged]
    )
    flagged += _ignored_flags(open_matches, members, ignoring)
    return await _gather(session, flagged, members)


_MEMBERSHIP = Membership.__table__  # type: ignore[attr-defined]
# built once (every click runs it); a Core statement, as no Membership is loaded yet when it runs
_RESET_IGNORED = (
    update(_MEMBERSHIP)
    .where(_MEMBERSHIP.c.user_id == bindparam("b_user_id"), _MEMBERSHIP.c.ignored_intros > 0)
    .values(ignored_intros=0)
)


async def note_activity(session: AsyncSession, user_id: int | None) -> None:
    """Someone clicked or answered something: they're not ignoring us, so their ignored-intro count resets."""
    await (await session.connection()).execute(_RESET_IGNORED, {"b_user_id": user_id})


async def _intros_between(session: AsyncSession, program: Program, since: datetime, until: datetime) -> list[Match]:
    """The intros of one digest week, oldest first, so each intro is counted exactly once."""
    return list(
        (
            await session.exec(
                select(Match)
                .where(Match.program_id == program.id, col(Match.created_at) >= since, col(Match.created_at) < until)
                .order_by(col(Match.created_at), col(Match.id))
            )
        ).all()
    )


async def _answered(session: AsyncSession, ids: list[int]) -> set[tuple[int | None, int]]:
    """(match, user) pairs where the person answered a survey about that match: a reaction."""
    return {
        (match_id, user_id)
        for match_id, user_id in (
            await session.exec(
                select(SurveyInstance.match_id, SurveyRecipient.user_id)
                .join(SurveyRecipient, col(SurveyRecipient.instance_id) == SurveyInstance.id)
                .where(col(SurveyInstance.match_id).in_(ids), col(SurveyRecipient.answered).is_(True))
            )
        ).all()
    }


async def _booked(session: AsyncSession, ids: list[int]) -> set[tuple[int, int]]:
    """(match, user) pairs where the person proposed or accepted a meeting: also a reaction."""
    booked: set[tuple[int, int]] = set()
    for meeting in (await session.exec(select(Meeting).where(col(Meeting.match_id).in_(ids)))).all():
        for user_id in [meeting.proposed_by_user_id, *meeting.accepted_user_ids]:
            if user_id is not None:
                booked.add((meeting.match_id, user_id))
    return booked


def _expects_reaction(member: Membership | None, now: datetime) -> bool:
    """Only active, unpaused members are expected to react: silence during a pause is fine."""
    return member is not None and member.status == MembershipStatus.ACTIVE.value and not is_paused(member, now)


async def _memberships(session: AsyncSession, program: Program) -> dict[int, Membership]:
    """Everyone's membership in the program by user id, loaded once for the whole week of intros."""
    return {
        m.user_id: m for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all()
    }


def _tally(member: Membership, reacted: bool) -> bool:
    """Reset the count on a reaction, add one on silence; True once the person hits the limit."""
    if reacted:
        member.ignored_intros = 0
        return False
    member.ignored_intros += 1
    return member.ignored_intros >= IGNORED_INTROS_LIMIT


async def update_ignored_intros(
    core: Runtime, session: AsyncSession, program: Program, since: datetime, until: datetime
) -> list[User]:
    """Count intros (created in [since, until)) nobody reacted to; pause people at three in a row.

    Acting on an intro (a survey answer, a booking click, or the pair meeting) resets the count. Each
    weekly digest looks at a different week of intros, so an intro is only ever counted once.
    """
    now = core.clock.now()
    matches = await _intros_between(session, program, since, until)
    if not matches:
        return []
    ids = [m.id for m in matches if m.id is not None]
    members = await _members(session, ids)
    reacted = await _answered(session, ids) | await _booked(session, ids)
    memberships = await _memberships(session, program)
    paused: list[User] = []
    for match in matches:
        for user in members.get(match.id or 0, []):
            member = memberships.get(user.id or 0)
            if member is None or not _expects_reaction(member, now):
                continue  # away on a pause they asked for: silence is expected
            if _tally(member, _met(match) or (match.id or 0, user.id or 0) in reacted):
                await _auto_pause(core, session, program, member, user, now)
                paused.append(user)
    await session.flush()
    return paused


async def _auto_pause(
    core: Runtime, session: AsyncSession, program: Program, member: Membership, user: User, now: datetime
) -> None:
    """Pause someone who isn't responding, so partners stop waiting on them, and tell them why."""

    until = now + AUTO_PAUSE
    count = member.ignored_intros
    member.paused_until = until
    member.ignored_intros = 0
    session.add(
        AuditEntry(
            workspace_id=program.workspace_id,
            actor_user_id=None,
            program_id=program.id,
            action="auto_pause",
            details={"user": user.platform_user_id, "ignored_intros": count, "until": until.isoformat()},
            at=now,
        )
    )
    text = (
        f"I haven't heard from you about your last {count} introductions in **{program.name}**, so I've "
        f"paused you until {show(until, user.timezone)} so nobody waits on you. Back sooner? Just click below "
        "or type `resume`."
    )
    message = Message(
        summary=f"Paused in {program.name}",
        blocks=(
            Section(text=Text.of(text)),
            Actions(elements=(RESUME.button("I'm back: resume", NoValue()),)),
        ),
    )
    await enqueue(
        session,
        program.workspace_id,
        [
            Outgoing(
                key=f"program:{program.id}:autopause:{user.id}:{now:%Y%m%d}",
                step="auto_pause",
                target=to_user(user.platform_user_id),
                message=message,
                program_id=program.id,
            )
        ],
        now,
    )


def digest_message(program: Program, items: list[RiskItem], paused: list[User]) -> Message:
    """The admin digest: one section per pair with buttons to nudge, rematch or pause."""
    blocks: list = [Header(text=f"🩺 {program.name}: pairs that may need a hand")]
    if not items:
        blocks.append(Section(text=Text.of("No pair shows a warning sign this week.")))
    for item in items:
        names = " + ".join(u.display_name for u in item.members) or f"match {item.match.id}"
        blocks.append(Section(text=Text.of(f"**{names}**\n" + "\n".join(f"• {r}" for r in item.reasons))))
        buttons = [
            NUDGE.button("Nudge", MatchRef(item.match.id or 0)),
            REMATCH.button("Rematch next round", MatchRef(item.match.id or 0)),
        ]
        buttons += [
            PAUSE.button(f"Pause {u.display_name}", MemberRef(program.id or 0, u.id or 0), style="danger")
            for u in item.members
        ]
        blocks.append(Actions(elements=tuple(buttons)))
    if paused:
        blocks.append(
            Context(
                text=Text.of(
                    "Paused for ignoring three intros in a row (they were told why): "
                    + ", ".join(u.display_name for u in paused)
                )
            )
        )
    return Message(summary=f"{program.name}: {len(items)} pair(s) may need a hand", blocks=tuple(blocks))


async def send_digest(
    core: Runtime, session: AsyncSession, program: Program, week: int, due_at: datetime | None = None
) -> int:
    """The weekly admin digest step: update intro counts, then DM each admin the at-risk list.

    The intro window hangs off the step's due time (not the clock), so a digest that runs late after
    downtime still looks at exactly its own week of intros.
    """

    now = core.clock.now()
    anchor = due_at or now
    paused = await update_ignored_intros(core, session, program, anchor - 2 * INTRO_GRACE, anchor - INTRO_GRACE)
    items = await find_at_risk(session, program, now)
    if not items and not paused:
        return 0
    message = digest_message(program, items, paused)
    admins = await program_admins(core, session, program)
    return await enqueue(
        session,
        program.workspace_id,
        [
            Outgoing(
                key=f"program:{program.id}:digest:week:{week}:admin:{a.id}",
                step="digest",
                target=to_user(a.platform_user_id),
                message=message,
                program_id=program.id,
            )
            for a in admins
        ],
        now,
    )
