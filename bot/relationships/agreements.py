"""The mentorship agreement: 1–3 goals in the pair's own words, how often they meet, how they talk.

Either side proposes with the agreement form; the others get the proposal with [Confirm] [Suggest changes].
Confirming sets the match's cadence. A proposal's buttons carry its version (a digest of what was proposed
and when), so a click on a proposal that was since replaced changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import visibility
from bot.chat.errors import CommandError
from bot.chat.registry import ButtonKind
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.kernel.messages import (
    Actions,
    Context,
    Form,
    Header,
    Mention,
    Message,
    Option,
    Section,
    SelectInput,
    Text,
    TextInput,
)
from bot.kernel.runtime import Runtime
from bot.programs.matches import members_of
from bot.programs.membership import everyone_available
from storage.enums import Cadence, MatchStatus, Medium, ProgramKind, ProgramStatus
from storage.tables import Agreement, Delivery, Goal, Match, MatchMember, Program, User, Workspace

FORM = "agreement"
REMINDER_STEP = "agreement_reminder"
MAX_GOALS = 3
MAX_GOAL_LENGTH = 200
MAX_AVOID_LENGTH = 500

CADENCE_LABELS = {
    Cadence.WEEKLY.value: "weekly",
    Cadence.BIWEEKLY.value: "every two weeks",
    Cadence.MONTHLY.value: "monthly",
}
MEDIUM_LABELS = {
    Medium.VIDEO.value: "video",
    Medium.CALL.value: "call",
    Medium.CHAT.value: "chat",
    Medium.IN_PERSON.value: "in person",
}


class MatchRef(NamedTuple):
    match_id: int


class ProposalRef(NamedTuple):
    """One proposal of a match's agreement: a newer proposal gets another version."""

    match_id: int
    version: str


OPEN = ButtonKind("agree:open", MatchRef)
CONFIRM = ButtonKind("agree:confirm", ProposalRef)
CHANGE = ButtonKind("agree:change", ProposalRef)


class AgreementError(CommandError):
    """A click or a submission that can't be applied; the text says why, and nothing was changed."""


@dataclass(frozen=True)
class Terms:
    """What a pair agrees, as submitted (already checked)."""

    goals: tuple[str, ...]
    cadence: str
    medium: str
    avoid: str | None


@dataclass(frozen=True)
class Pair:
    """A live mentoring match with its program and members, loaded for one person in it."""

    match: Match
    program: Program
    members: list[User]

    def others(self, user: User) -> list[User]:
        return [u for u in self.members if u.id != user.id]


def names(users: list[User]) -> str:
    found = [u.display_name for u in users] or ["your match"]
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def mention(user: User) -> Mention:
    return Mention(user_id=user.platform_user_id, name=user.display_name)


# --- loading ---------------------------------------------------------------------------------------------


async def load_pair(session: AsyncSession, match_id: int, user: User) -> Pair:
    """The match a button or form is about, if it is a live mentoring match this person is in."""
    match = await session.get(Match, match_id)
    program = await session.get(Program, match.program_id) if match is not None else None
    if match is None or program is None or program.workspace_id != user.workspace_id:
        raise AgreementError("That match no longer exists; nothing was changed.")
    members = [u for _, u in await members_of(session, match.id)]
    if user.id not in {u.id for u in members}:
        raise AgreementError("This button belongs to another match than yours; nothing was changed.")
    pair = Pair(match, program, members)
    if match.status == MatchStatus.ENDED.value:
        raise AgreementError(
            f"Your match with {names(pair.others(user))} has ended, so there's no agreement to change; "
            "nothing was changed."
        )
    if program.kind != ProgramKind.MENTORING.value:
        raise AgreementError("Agreements are for mentoring matches; nothing was changed.")
    return pair


async def live_pairs(session: AsyncSession, user: User) -> list[Pair]:
    """Every live mentoring match of this person, oldest first."""
    rows = (
        await session.exec(
            select(Match, Program)
            .join(MatchMember, col(MatchMember.match_id) == Match.id)
            .join(Program, col(Program.id) == Match.program_id)
            .where(
                MatchMember.user_id == user.id,
                col(Match.status) != MatchStatus.ENDED.value,
                Program.kind == ProgramKind.MENTORING.value,
            )
            .order_by(col(Match.id))
        )
    ).all()
    return [Pair(match, program, [u for _, u in await members_of(session, match.id)]) for match, program in rows]


async def current(session: AsyncSession, match_id: int | None) -> tuple[Agreement | None, list[Goal]]:
    agreement = (await session.exec(select(Agreement).where(Agreement.match_id == match_id))).first()
    goals = list((await session.exec(select(Goal).where(Goal.match_id == match_id).order_by(col(Goal.position)))).all())
    return agreement, goals


def version(agreement: Agreement, goals: list[Goal]) -> str:
    """A short digest of a proposal: who, when and what. Any re-proposal changes it."""
    stamp = agreement.proposed_at.replace(microsecond=0).isoformat() if agreement.proposed_at else ""
    what = "\n".join(
        [
            str(agreement.proposed_by_user_id),
            stamp,
            agreement.cadence,
            agreement.medium,
            agreement.avoid or "",
            *(g.text for g in goals),
        ]
    )
    return hashlib.sha256(what.encode()).hexdigest()[:12]


# --- the form --------------------------------------------------------------------------------------------


def agreement_form(pair: Pair, viewer: User, agreement: Agreement | None, goals: list[Goal]) -> Form:
    """The agreement form, filled with what was proposed last (if anything)."""
    return Form(
        form_id=FORM,
        title="Agree how you'll work",
        submit_label="Propose",
        intro=(
            f"With {names(pair.others(viewer))}: write 1 to 3 goals in your own words, one per line, and say how "
            "you'd like to work. They'll be asked to confirm it.\n" + visibility.AGREEMENT
        ),
        fields=(
            TextInput(
                field_id="goals",
                label="Your goals (one per line, up to three)",
                placeholder="e.g. Lead a design review by March",
                initial="\n".join(g.text for g in goals),
                multiline=True,
                max_length=1000,
            ),
            SelectInput(
                field_id="cadence",
                label="How often you'll meet",
                options=tuple(Option(label=label.capitalize(), value=v) for v, label in CADENCE_LABELS.items()),
                initial=(agreement.cadence,) if agreement else (pair.program.cadence,),
            ),
            SelectInput(
                field_id="medium",
                label="How you prefer to talk",
                options=tuple(Option(label=label.capitalize(), value=v) for v, label in MEDIUM_LABELS.items()),
                initial=(agreement.medium,) if agreement else (Medium.VIDEO.value,),
            ),
            TextInput(
                field_id="avoid",
                label="Anything to avoid (optional)",
                placeholder="e.g. no meetings on Fridays",
                initial=(agreement.avoid or "") if agreement else "",
                multiline=True,
                optional=True,
                max_length=MAX_AVOID_LENGTH,
            ),
        ),
        state=str(pair.match.id),
    )


def _one(values: dict[str, Any], key: str) -> str:
    raw = values.get(key)
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return str(raw or "").strip()


def _goal_error(goals: list[str]) -> str | None:
    if not goals:
        return "Write at least one goal"
    if len(goals) > MAX_GOALS:
        return "Three goals at most: pick the ones that matter most"
    for number, goal in enumerate(goals, 1):
        if len(goal) > MAX_GOAL_LENGTH:
            return f"Goal {number} is {len(goal)} characters long; keep each goal to {MAX_GOAL_LENGTH} at most"
    return None


def parse_terms(values: dict[str, Any]) -> tuple[Terms | None, dict[str, str]]:
    """The submitted form checked: the terms, or the problems by field (and then nothing is saved)."""
    goals = [line.strip() for line in _one(values, "goals").splitlines() if line.strip()]
    errors: dict[str, str] = {}
    problem = _goal_error(goals)
    if problem:
        errors["goals"] = problem
    cadence, medium, avoid = _one(values, "cadence"), _one(values, "medium"), _one(values, "avoid")
    if cadence not in CADENCE_LABELS:
        errors["cadence"] = "Pick how often you'll meet: weekly, every two weeks or monthly"
    if medium not in MEDIUM_LABELS:
        errors["medium"] = "Pick how you prefer to talk: video, call, chat or in person"
    if len(avoid) > MAX_AVOID_LENGTH:
        errors["avoid"] = f"Keep this to {MAX_AVOID_LENGTH} characters at most (it is {len(avoid)})"
    if errors:
        return None, errors
    return Terms(tuple(goals), cadence, medium, avoid or None), {}


# --- proposing and confirming ----------------------------------------------------------------------------


async def _replace_goals(
    session: AsyncSession, match_id: int, old: list[Goal], texts: tuple[str, ...], owner: User, now: datetime
) -> list[Goal]:
    """The new goal list; a goal whose text is unchanged keeps its status, author and history."""
    before = {g.text.strip().casefold(): g for g in old}
    await session.exec(delete(Goal).where(col(Goal.match_id) == match_id))
    await session.flush()
    goals = []
    for position, text in enumerate(texts, 1):
        kept = before.get(text.casefold())
        goal = Goal(
            match_id=match_id,
            owner_user_id=kept.owner_user_id if kept else owner.id,
            position=position,
            text=text,
            status=kept.status if kept else "not_started",
            created_at=kept.created_at if kept else now,
            updated_at=kept.updated_at if kept else now,
        )
        session.add(goal)
        goals.append(goal)
    await session.flush()
    return goals


def terms_blocks(agreement: Agreement, goals: list[Goal]) -> list:
    lines = "\n".join(f"{i}. {g.text}" for i, g in enumerate(goals, 1))
    fields = [("Meet", CADENCE_LABELS[agreement.cadence]), ("Talk by", MEDIUM_LABELS[agreement.medium])]
    if agreement.avoid:
        fields.append(("Avoid", agreement.avoid))
    return [Section(text=Text.of(f"**Goals**\n{lines}"), fields=tuple(fields))]


def proposal_message(pair: Pair, agreement: Agreement, goals: list[Goal], proposer: User) -> Message:
    ref = ProposalRef(pair.match.id or 0, version(agreement, goals))
    return Message(
        summary=f"{proposer.display_name} proposed how you'll work together",
        blocks=(
            Header(text="How you'll work together 🤝"),
            Section(text=Text.of(mention(proposer), f" proposed how you'll work together in **{pair.program.name}**:")),
            *terms_blocks(agreement, goals),
            Actions(
                elements=(
                    CONFIRM.button("Confirm", ref, style="primary"),
                    CHANGE.button("Suggest changes", ref),
                )
            ),
        ),
    )


async def propose(core: Runtime, session: AsyncSession, pair: Pair, proposer: User, terms: Terms) -> Agreement:
    """Store the proposal (any earlier one is replaced, unconfirmed) and send it to the others."""
    now = core.clock.now()
    agreement, old_goals = await current(session, pair.match.id)
    if agreement is None:
        agreement = Agreement(match_id=pair.match.id or 0, cadence=terms.cadence, medium=terms.medium,
                              proposed_by_user_id=proposer.id or 0)  # fmt: skip
        session.add(agreement)
    agreement.cadence, agreement.medium, agreement.avoid = terms.cadence, terms.medium, terms.avoid
    agreement.proposed_by_user_id = proposer.id or 0
    agreement.proposed_at = now
    agreement.confirmed_by_user_id = None
    agreement.confirmed_at = None
    goals = await _replace_goals(session, pair.match.id or 0, old_goals, terms.goals, proposer, now)
    await session.flush()
    message = proposal_message(pair, agreement, goals, proposer)
    stamp = version(agreement, goals)
    items = [
        Outgoing(
            key=f"match:{pair.match.id}:agreement:{stamp}:proposal:user:{u.id}",
            step="agreement",
            target=to_user(u.platform_user_id),
            message=message,
            program_id=pair.program.id,
            round_id=pair.match.round_id,
            match_id=pair.match.id,
        )
        for u in pair.others(proposer)
    ]
    await enqueue(session, pair.program.workspace_id, items, now)
    return agreement


async def pending_proposal(session: AsyncSession, pair: Pair, clicker: User, ref_version: str) -> Agreement:
    """The proposal a Confirm or Suggest-changes click is about, if it is still the latest one."""
    agreement, goals = await current(session, pair.match.id)
    if agreement is None or version(agreement, goals) != ref_version:
        raise AgreementError("That proposal was replaced by a newer one; use the latest message. Nothing was changed.")
    return agreement


async def confirm(core: Runtime, session: AsyncSession, pair: Pair, clicker: User, ref_version: str) -> str:
    """Confirm the latest proposal (someone other than its proposer); the proposer is told."""
    agreement = await pending_proposal(session, pair, clicker, ref_version)
    if agreement.confirmed_at is not None:
        return "This agreement is already confirmed. 🤝"
    if agreement.proposed_by_user_id == clicker.id:
        return f"You proposed this, so {names(pair.others(clicker))} confirms it. Nothing was changed."
    now = core.clock.now()
    agreement.confirmed_by_user_id = clicker.id
    agreement.confirmed_at = now
    pair.match.cadence = agreement.cadence
    proposer = next((u for u in pair.members if u.id == agreement.proposed_by_user_id), None)
    how = f"you'll meet {CADENCE_LABELS[agreement.cadence]}, by {MEDIUM_LABELS[agreement.medium]}"
    if proposer is not None:
        note = Message(
            summary=f"{clicker.display_name} confirmed your agreement",
            blocks=(Section(text=Text.of("✅ ", mention(clicker), f" confirmed your agreement: {how}.")),),
        )
        item = Outgoing(
            key=f"match:{pair.match.id}:agreement:{ref_version}:confirmed",
            step="agreement",
            target=to_user(proposer.platform_user_id),
            message=note,
            program_id=pair.program.id,
            round_id=pair.match.round_id,
            match_id=pair.match.id,
        )
        await enqueue(session, pair.program.workspace_id, [item], now)
    return f"Agreed with {names(pair.others(clicker))}: {how}. 🤝"


def confirmed_message(pair: Pair, agreement: Agreement, goals: list[Goal], clicker: User, text: str) -> Message:
    """The proposal as it stands after a click, without its buttons."""
    return Message(
        summary=text,
        blocks=(
            Header(text="How you'll work together 🤝"),
            *terms_blocks(agreement, goals),
            Context(text=Text.of(text)),
        ),
    )


# --- gentle reminders ------------------------------------------------------------------------------------

FIRST_REMINDER = timedelta(days=3)
LAST_REMINDER = timedelta(days=7)
REMIND_UNTIL = timedelta(days=14)  # a reminder not sendable by then (someone was away) is dropped


def _people(users: list[User]) -> list:
    parts: list = []
    for index, user in enumerate(users):
        if index:
            parts.append(" and " if index == len(users) - 1 else ", ")
        parts.append(mention(user))
    return parts


def reminder_message(pair: Pair, viewer: User | None, agreement: Agreement | None, number: int) -> Message:
    """'Have you agreed how you'll work?' with the button that opens the form; names the others.

    ``viewer`` None: the message goes to the whole group, so it names everyone."""
    opening = "👋 A gentle reminder" if number == 1 else "👋 One last reminder"
    if viewer is None:
        body = Text.of(f"{opening}, ", *_people(pair.members), ": have you agreed how you'll work together?")
    else:
        body = Text.of(f"{opening}: have you agreed with ", *_people(pair.others(viewer)), " how you'll work together?")
    blocks: list = [
        Section(text=body),
        Context(text=Text.of("A few goals and how often you'll meet make the weeks ahead count.")),
    ]
    if agreement is not None:
        blocks.append(Context(text=Text.of("A proposal is waiting for confirmation: see its message.")))
    blocks.append(Actions(elements=(OPEN.button("Agree how you'll work", MatchRef(pair.match.id or 0)),)))
    if number > 1:
        cadence = CADENCE_LABELS.get(pair.program.cadence, pair.program.cadence)
        blocks.append(
            Context(text=Text.of(f"No agreement needed, though: if you skip it, you'll hear from me {cadence}."))
        )
    return Message(summary="Have you agreed how you'll work?", blocks=tuple(blocks))


async def _reminder_candidates(
    session: AsyncSession, now: datetime
) -> list[tuple[Match, Program, Workspace, Agreement | None]]:
    """Live mentoring matches 3 to 14 days old with no confirmed agreement."""
    rows = (
        await session.exec(
            select(Match, Program, Workspace, Agreement)
            .join(Program, col(Program.id) == Match.program_id)
            .join(Workspace, col(Workspace.id) == Program.workspace_id)
            .outerjoin(Agreement, col(Agreement.match_id) == Match.id)
            .where(
                Program.kind == ProgramKind.MENTORING.value,
                Program.status == ProgramStatus.ACTIVE.value,
                col(Match.status) != MatchStatus.ENDED.value,
                col(Match.created_at) <= now - FIRST_REMINDER,
                col(Match.created_at) > now - REMIND_UNTIL,
                col(Agreement.confirmed_at).is_(None),
            )
            .order_by(col(Match.id))
        )
    ).all()
    return [(m, p, w, a) for m, p, w, a in rows]


async def _reminders_sent(session: AsyncSession, match_ids: list[int]) -> dict[int, int]:
    """The highest reminder number already written for each match (its delivery keys say so)."""
    sent: dict[int, int] = {}
    if not match_ids:
        return sent
    for match_id, key in (
        await session.exec(
            select(Delivery.match_id, Delivery.idempotency_key).where(
                col(Delivery.match_id).in_(match_ids), Delivery.step == REMINDER_STEP
            )
        )
    ).all():
        number = key.split(":agreement:reminder:")[-1].split(":")[0]
        if match_id is not None and number.isdigit():
            sent[match_id] = max(sent.get(match_id, 0), int(number))
    return sent


def _reminder_items(
    core: Runtime, platform: str, pair: Pair, agreement: Agreement | None, number: int
) -> list[Outgoing]:
    """One reminder in the pair's group chat where the platform has them, else one to each of them."""
    base = f"match:{pair.match.id}:agreement:reminder:{number}"
    if core.port(platform).capabilities.group_conversations:
        group = to_group([u.platform_user_id for u in pair.members])
        sends: list[tuple[str, dict[str, Any], User | None]] = [(f"{base}:group", group, None)]
    else:
        sends = [(f"{base}:user:{u.id}", to_user(u.platform_user_id), u) for u in pair.members]
    return [
        Outgoing(
            key=key,
            step=REMINDER_STEP,
            target=target,
            message=reminder_message(pair, viewer, agreement, number),
            program_id=pair.program.id,
            round_id=pair.match.round_id,
            match_id=pair.match.id,
        )
        for key, target, viewer in sends
    ]


async def send_agreement_reminders(core: Runtime) -> int:
    """Pairs with nothing agreed get a reminder 3 days after their intro and a last one after 7, each once.

    Never while someone in the pair is away; after the last one the program's own cadence simply applies.
    """
    now = core.clock.now()
    total = 0
    async with core.db.transaction() as session:
        candidates = await _reminder_candidates(session, now)
        sent = await _reminders_sent(session, [m.id for m, *_ in candidates if m.id is not None])
        for match, program, workspace, agreement in candidates:
            assert match.created_at is not None
            number = 2 if now - match.created_at >= LAST_REMINDER else 1
            if max(sent.get(match.id or 0, 0), agreement.reminded if agreement else 0) >= number:
                continue
            pair = Pair(match, program, [u for _, u in await members_of(session, match.id)])
            if not await everyone_available(session, program, pair.members, now):
                continue
            items = _reminder_items(core, workspace.platform, pair, agreement, number)
            total += await enqueue(session, workspace.id or 0, items, now)
            if agreement is not None:
                agreement.reminded = number
    return total
