"""Introductions: the message that tells a group they've been matched, why, and when they could meet."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.booking.offers import offer_blocks, offer_round
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.engagement.custom_content import custom_prompts
from bot.engagement.prompts import prompt_blocks
from bot.kernel.messages import Actions, Context, GroupChatButton, Header, Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.matching.overlap import shared_hours, working_mask
from bot.programs.matches import match_groups
from bot.programs.membership import min_shared_hours
from bot.programs.voice import voice_blocks
from bot.relationships.agreements import OPEN, MatchRef
from storage.enums import ProgramKind, Role
from storage.tables import Match, Program, Round, User, Waitlist, Workspace


def _mention(user: User) -> Mention:
    return Mention(user_id=user.platform_user_id, name=user.display_name)


def _names(users: list[User]) -> str:
    names = [u.display_name for u in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _who_line(program: Program, members: list[tuple[str, User]]) -> Text:
    parts: list = []
    for index, (role, user) in enumerate(members):
        if index:
            parts.append(" and " if index == len(members) - 1 else ", ")
        parts.append(_mention(user))
        if program.kind == ProgramKind.MENTORING.value:
            parts.append(f" ({role})")
    return Text.of(*parts)


def _title(program: Program) -> str:
    if program.kind == ProgramKind.MENTORING.value:
        return "Meet your mentoring match 🤝"
    return "Time for a coffee chat ☕"


def agreement_blocks(program: Program, match: Match) -> list:
    """A mentoring intro's invitation to agree goals and a way of working (peer groups get none)."""
    if program.kind != ProgramKind.MENTORING.value:
        return []
    return [
        Section(text=Text.of("**Start well:** agree 1 to 3 goals and how often you'll meet.")),
        Actions(elements=(OPEN.button("Agree how you'll work", MatchRef(match.id or 0), style="primary"),)),
    ]


def short_overlap_blocks(program: Program, users: list[User], times_fit: bool) -> list:
    """When a group shares less of the working day than the program asks, say so and offer the async start.

    Matching only forms such a group when no other good pairing existed. With no shared time at all the
    booking offer already says so (``times_fit`` is False), so this speaks only for a short overlap.
    """
    need = min_shared_hours(program)
    hours = shared_hours(*(working_mask(u.timezone, u.work_start, u.work_end) for u in users))
    if not times_fit or hours >= need:
        return []
    span = f"{hours:g} h" if hours >= 1 else f"{round(hours * 60)} minutes"
    return [
        Section(
            text=Text.of(
                f"Your working days share only {span}, so finding a time may be tight. If none of the times "
                "below suits you, **start asynchronously**: share a short voice or video note about yourselves."
            )
        )
    ]


def intro_for_group(
    program: Program,
    rnd: Round,
    members: list[tuple[str, User]],
    reasons: list[str],
    booking: list,
    *,
    extra: list[str] | tuple[str, ...] = (),
    prompts: list | None = None,
) -> Message:
    users = [u for _, u in members]
    who = _who_line(program, members)
    blocks: list = [
        Header(text=_title(program)),
        Section(text=Text.of(*who.parts, f": you're matched in **{program.name}** (round {rnd.number}).")),
    ]
    if reasons:
        blocks.append(Section(text=Text.of("**Why you:**\n" + "\n".join(f"• {r}" for r in reasons))))
    blocks.extend(voice_blocks(users))
    blocks.extend(prompts if prompts is not None else prompt_blocks(program, 1, heading=False, extra=extra))
    blocks.extend(booking)
    # read by everyone named in it (the group's own conversation): address them, don't describe them
    return Message(summary=f"{_names(users)}: you're matched in {program.name}", blocks=tuple(blocks))


def intro_for_person(
    program: Program,
    rnd: Round,
    viewer: User,
    members: list[tuple[str, User]],
    reasons: list[str],
    booking: list,
    *,
    extra: list[str] | tuple[str, ...] = (),
    prompts: list | None = None,
) -> Message:
    """For platforms where the bot can't open group chats: a 1:1 card with a button that opens one."""
    others = [(r, u) for r, u in members if u.id != viewer.id]
    users = [u for _, u in members]
    who = _who_line(program, others)
    blocks: list = [
        Header(text=_title(program)),
        Section(text=Text.of("You're matched with ", *who.parts, f" in **{program.name}** (round {rnd.number}).")),
    ]
    if reasons:
        blocks.append(Section(text=Text.of("**Why you:**\n" + "\n".join(f"• {r}" for r in reasons))))
    blocks.extend(voice_blocks([u for _, u in others]))
    blocks.append(
        Actions(
            elements=(
                GroupChatButton(
                    label="Start a group chat",
                    user_ids=tuple(u.platform_user_id for u in users),
                    emails=tuple(u.email for u in users if u.email),
                    topic=f"{program.name}: {_names(users)}",
                ),
            )
        )
    )
    blocks.extend(prompts if prompts is not None else prompt_blocks(program, 1, heading=False, extra=extra))
    blocks.extend(booking)
    return Message(summary=f"You're matched with {_names([u for _, u in others])}", blocks=tuple(blocks))


async def enqueue_round_messages(core: Runtime, session: AsyncSession, program: Program, rnd: Round) -> int:
    """Intros for every group and a kind word for everyone the round could not place."""
    now = core.clock.now()
    workspace = await session.get(Workspace, program.workspace_id)
    assert workspace is not None
    groups_supported = core.port(workspace.platform).capabilities.group_conversations
    extra = (await custom_prompts(session, program)).get(1, [])  # the program team's own week-1 questions
    prompts = prompt_blocks(program, 1, heading=False, extra=extra)  # the same in every intro: built once
    items: list[Outgoing] = []
    groups = []
    for match, members in await match_groups(session, rnd.id):
        ordered = sorted(members, key=lambda mu: (mu[0].role != Role.MENTOR.value, mu[1].id or 0))
        groups.append((match, [(mm.role, u) for mm, u in ordered]))
    offers = await offer_round(session, program, rnd.id or 0, [(m, [u for _, u in p]) for m, p in groups], now)
    for (match, people), (meeting, plan) in zip(groups, offers, strict=True):
        users = [u for _, u in people]
        tight = short_overlap_blocks(program, users, plan.shared)
        base = f"program:{program.id}:round:{rnd.number}:match:{match.id}:intro"
        if groups_supported:
            message = intro_for_group(
                program,
                rnd,
                people,
                match.reasons,
                [*tight, *offer_blocks(meeting, plan, users), *agreement_blocks(program, match)],
                extra=extra,
                prompts=prompts,
            )
            target = to_group([u.platform_user_id for u in users])
            items.append(
                Outgoing(
                    key=f"{base}:group",
                    step="intro",
                    target=target,
                    message=message,
                    program_id=program.id,
                    round_id=rnd.id,
                    match_id=match.id,
                )
            )
        else:
            for user in users:
                message = intro_for_person(
                    program,
                    rnd,
                    user,
                    people,
                    match.reasons,
                    [*tight, *offer_blocks(meeting, plan, users, viewer=user), *agreement_blocks(program, match)],
                    extra=extra,
                    prompts=prompts,
                )
                items.append(
                    Outgoing(
                        key=f"{base}:user:{user.id}",
                        step="intro",
                        target=to_user(user.platform_user_id),
                        message=message,
                        program_id=program.id,
                        round_id=rnd.id,
                        match_id=match.id,
                    )
                )
    items.extend(await _waiting_notes(session, program, rnd))
    return await enqueue(session, program.workspace_id, items, now)


async def _waiting_notes(session: AsyncSession, program: Program, rnd: Round) -> list[Outgoing]:
    """A kind word for those this round could not place: once when they start waiting, again only on change.

    Someone the previous round could not place either has been told already (the engine's wording of the
    reason may differ from round to round while nothing changed for them).
    """
    told_before = await _waiting_since_last_round(session, program, rnd)
    items = []
    for entry, user in (await session.exec(_waitlist_query(rnd.id))).all():
        if user.id in told_before:
            continue
        message = Message(
            summary="No match for you this round",
            blocks=(
                Section(text=Text.of(f"No match for you in **{program.name}** this round. {entry.reason}")),
                Context(text=Text.of("Nothing to do on your side; you'll be first in line next round.")),
            ),
        )
        items.append(
            Outgoing(
                key=f"program:{program.id}:round:{rnd.number}:waitlist:{user.id}",
                step="waitlist",
                target=to_user(user.platform_user_id),
                message=message,
                program_id=program.id,
                round_id=rnd.id,
            )
        )
    return items


async def _waiting_since_last_round(session: AsyncSession, program: Program, rnd: Round) -> set[int]:
    """Who the previous round of this program could not place either."""
    previous = (
        await session.exec(
            select(Round.id)
            .where(Round.program_id == program.id, col(Round.number) < rnd.number)
            .order_by(col(Round.number).desc())
        )
    ).first()
    if previous is None:
        return set()
    return set((await session.exec(select(Waitlist.user_id).where(Waitlist.round_id == previous))).all())


def _waitlist_query(round_id: int | None):  # noqa: ANN202
    return (
        select(Waitlist, User)
        .join(User, col(User.id) == Waitlist.user_id)
        .where(Waitlist.round_id == round_id)
        .order_by(col(Waitlist.id))
    )
