"""The end of a mentoring relationship: one wrap-up when its track is over, the members' choice, then the end.

When a pair's match week passes the program's track, each member gets one wrap-up naming the others: a
thank-you, their goals and where they stand, a choice ([Keep meeting on our own] / [Wrap up here]) and
whether to celebrate in the program channel; the end-of-program survey follows it in the same step. The
choices are kept as answers on that survey's instance (question ids ``wrapup:*``), so export shows them.

The match ends once everyone has answered both, or :data:`ANSWER_WITHIN` after the wrap-up: INFORMAL when
anyone keeps meeting on their own (the bot stops prompting them), TRACK_OVER otherwise. The channel hears
"completed the program together" only if every member said yes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.context import Ctx, say
from bot.chat.errors import CommandError
from bot.chat.registry import ButtonKind, on_click
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.engagement.celebrations import on_program_completed
from bot.engagement.survey_ids import END_OF_PROGRAM
from bot.engagement.surveys import SurveyAsk, open_surveys
from bot.kernel.events import Reply, Response
from bot.kernel.messages import Actions, Block, Context, Header, Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import show
from bot.programs.matches import end_match, members_of
from bot.relationships.goal_reviews import END as END_REVIEW
from bot.relationships.goal_reviews import review_outgoing
from bot.relationships.goals import goal_lines, goals_by_match
from storage.enums import EndReason, MatchStatus, ProgramKind, ProgramStatus
from storage.tables import Goal, Match, Program, SurveyAnswer, SurveyInstance, User
from storage.upsert import insert_ignore

ANSWER_WITHIN = timedelta(days=7)  # no answer by then: the relationship wraps up (TRACK_OVER)
TOO_LATE = timedelta(days=14)  # a track that ended this long ago (e.g. before upgrading) ends without a wrap-up
KEEP, DONE, YES, NO = "keep", "done", "yes", "no"
Q_CHOICE, Q_CELEBRATE = "wrapup:choice", "wrapup:celebrate"  # answer rows on the end-of-program survey
SURVEY_KEEP = ("next_step", "keep_meeting")  # the survey's own "we'll keep meeting" counts as the same choice


class WrapRef(NamedTuple):
    match_id: int
    answer: str


CHOICE = ButtonKind("wrapup:choice", WrapRef)
CELEBRATE = ButtonKind("wrapup:celebrate", WrapRef)


def survey_key(match_id: int | None) -> str:
    """The end-of-program survey of a match: opened by the wrap-up, it also marks that the wrap-up was sent."""
    return f"match:{match_id}:{END_OF_PROGRAM}"


def names_of(viewer: User, members: list[User]) -> list[str | Mention]:
    """The others in the match as mentions: "Ana", "Ana and Ben", "Ana, Ben and Chen"."""
    others = [u for u in members if u.id != viewer.id]
    parts: list[str | Mention] = []
    for index, user in enumerate(others):
        if index:
            parts.append(" and " if index == len(others) - 1 else ", ")
        parts.append(Mention(user_id=user.platform_user_id, name=user.display_name))
    return parts


def goal_review_blocks(goals: list[Goal]) -> list[Block]:
    """Where the pair's goals stand (each goal's one-tap review comes just before, in its own message)."""
    if not goals:
        return [Context(text=Text.of("You didn't write down goals; the survey below asks what you take away."))]
    return [Section(text=Text.of("**Your goals, and where they stand**\n" + "\n".join(goal_lines(goals))))]


def _tick(label: str, value: str, chosen: str | None) -> str:
    return ("✓ " if chosen == value else "") + label


def wrapup_message(
    program: Program,
    match: Match,
    viewer: User,
    members: list[User],
    goals: list[Goal],
    answers: dict[str, str],
    closes_at: datetime,
) -> Message:
    """One member's wrap-up, with their own answers ticked."""
    mid = match.id or 0
    choice, celebrate = answers.get(Q_CHOICE), answers.get(Q_CELEBRATE)
    blocks: list[Block] = [
        Header(text="Wrapping up your mentoring"),
        Section(
            text=Text.of(
                f"🎓 Your {program.track_weeks} weeks in {program.name} with ",
                *names_of(viewer, members),
                " are over. Thank you for the time and care you gave each other!",
            )
        ),
        *goal_review_blocks(goals),
        Section(text=Text.of("**How would you like to go on?**")),
        Actions(
            elements=(
                CHOICE.button(_tick("Keep meeting on our own", KEEP, choice), WrapRef(mid, KEEP), style="primary"),
                CHOICE.button(_tick("Wrap up here", DONE, choice), WrapRef(mid, DONE)),
            )
        ),
        Section(text=Text.of(f"**Shall we celebrate your journey in the {program.name} channel?**")),
        Actions(
            elements=(
                CELEBRATE.button(_tick("Yes", YES, celebrate), WrapRef(mid, YES)),
                CELEBRATE.button(_tick("No", NO, celebrate), WrapRef(mid, NO)),
            )
        ),
    ]
    if choice == KEEP:
        blocks.append(Context(text=Text.of("You'll keep meeting on your own: I won't prompt you about it any more.")))
    blocks.append(
        Context(
            text=Text.of(
                f"We celebrate only if everyone says yes. Without answers this wraps up on "
                f"{show(closes_at, viewer.timezone)}. A short end-of-program survey follows."
            )
        )
    )
    return Message(summary="Wrapping up your mentoring", blocks=tuple(blocks))


async def _answers(session: AsyncSession, instance_id: int | None) -> dict[int, dict[str, str]]:
    """Each member's wrap-up answers (and the survey's own "keep meeting"), by user id."""
    found: dict[int, dict[str, str]] = {}
    for row in (await session.exec(select(SurveyAnswer).where(SurveyAnswer.instance_id == instance_id))).all():
        if row.user_id is not None:
            found.setdefault(row.user_id, {})[row.question_id] = row.value
    return found


def _chose_keep(answers: dict[str, str]) -> bool:
    """A member keeps meeting by the button, or by the survey's answer when they didn't click the button."""
    if Q_CHOICE in answers:
        return answers[Q_CHOICE] == KEEP
    return answers.get(SURVEY_KEEP[0]) == SURVEY_KEEP[1]


async def finish(core: Runtime, session: AsyncSession, match: Match, instance: SurveyInstance) -> bool:
    """End the relationship as its members chose; celebrate only if every member said yes."""
    members = [u for _, u in await members_of(session, match.id)]
    answers = await _answers(session, instance.id)
    keep = any(_chose_keep(answers.get(u.id or 0, {})) for u in members)
    now = core.clock.now()
    if not end_match(match, EndReason.INFORMAL if keep else EndReason.TRACK_OVER, now):
        return False
    if members and all(answers.get(u.id or 0, {}).get(Q_CELEBRATE) == YES for u in members):
        await on_program_completed(core, session, match)
    program = await session.get(Program, match.program_id)
    assert program is not None
    items = []
    for user in members:
        if keep:
            text = Text.of(
                "🌱 Your mentoring with ",
                *names_of(user, members),
                " goes on, on your own terms: I won't send you prompts or check-ins about it any more.",
            )
        else:
            text = Text.of(
                "👋 Your mentoring with ",
                *names_of(user, members),
                f" has wrapped up. Thank you! You stay in {program.name}; `leave` any time.",
            )
        items.append(
            Outgoing(
                key=f"match:{match.id}:ended:user:{user.id}",
                step="wrapup_end",
                target=to_user(user.platform_user_id),
                message=Message(summary=text.plain(), blocks=(Section(text=text),)),
                program_id=program.id,
                match_id=match.id,
            )
        )
    await enqueue(session, program.workspace_id, items, now)
    return True


async def _begin(core: Runtime, session: AsyncSession, program: Program, match: Match) -> None:
    """The goal review, the wrap-up to each member, then the end-of-program survey: one step, sent once."""
    now = core.clock.now()
    members = [u for _, u in await members_of(session, match.id)]
    goals = (await goals_by_match(session, [match.id])).get(match.id or 0, [])
    reviews = review_outgoing(program, match, goals, members, END_REVIEW) if goals else []
    items = reviews + [
        Outgoing(
            key=f"match:{match.id}:wrapup:user:{user.id}",
            step="wrapup",
            target=to_user(user.platform_user_id),
            message=wrapup_message(program, match, user, members, goals, {}, now + ANSWER_WITHIN),
            program_id=program.id,
            round_id=match.round_id,
            match_id=match.id,
        )
        for user in members
    ]
    await enqueue(session, program.workspace_id, items, now)
    ask = SurveyAsk(
        END_OF_PROGRAM, survey_key(match.id), members, match=match, round_id=match.round_id, members=members
    )
    await open_surveys(core, session, program, [ask])


async def wrap_up_relationships(core: Runtime) -> int:
    """Each tick: begin the wrap-up of mentoring tracks that are over, and end those that waited long enough."""
    now = core.clock.now()
    done = 0
    async with core.db.transaction() as session:
        programs = (
            await session.exec(
                select(Program).where(
                    Program.kind == ProgramKind.MENTORING.value, Program.status == ProgramStatus.ACTIVE.value
                )
            )
        ).all()
        for program in programs:
            over = (
                await session.exec(
                    select(Match)
                    .where(
                        Match.program_id == program.id,
                        col(Match.status) != MatchStatus.ENDED.value,
                        col(Match.created_at) <= now - timedelta(weeks=program.track_weeks),
                    )
                    .order_by(col(Match.id))
                )
            ).all()
            instances = await _instances(session, list(over))  # one query per tick, not one per match
            for match in over:
                done += await _advance(core, session, program, match, instances.get(survey_key(match.id)), now)
    return done


async def _instances(session: AsyncSession, matches: list[Match]) -> dict[str, SurveyInstance]:
    """The wrap-up surveys of these matches that exist, by key."""
    if not matches:
        return {}
    keys = [survey_key(m.id) for m in matches]
    rows = await session.exec(select(SurveyInstance).where(col(SurveyInstance.key).in_(keys)))
    return {i.key: i for i in rows.all()}


async def _advance(
    core: Runtime, session: AsyncSession, program: Program, match: Match, instance: SurveyInstance | None, now: datetime
) -> int:
    assert match.created_at is not None
    if instance is None:
        if match.created_at + timedelta(weeks=program.track_weeks) < now - TOO_LATE:
            end_match(match, EndReason.TRACK_OVER, now)  # long over (the bot was down, or older than wrap-ups)
            return 1
        await _begin(core, session, program, match)
        return 1
    if instance.opened_at is not None and instance.opened_at <= now - ANSWER_WITHIN:
        return int(await finish(core, session, match, instance))
    return 0


async def _wrapup_of(ctx: Ctx, match_id: int) -> tuple[Match, list[User], SurveyInstance]:
    """The match a wrap-up click is about, its members and its survey; CommandError when the click can't count."""
    match = await ctx.session.get(Match, match_id)
    members = [u for _, u in await members_of(ctx.session, match_id)] if match is not None else []
    if match is None or ctx.user.id not in {u.id for u in members}:
        raise CommandError("That wrap-up is about someone else's match; nothing was changed.")
    if match.status == MatchStatus.ENDED.value:
        raise CommandError("This mentoring relationship has already ended; nothing was changed.")
    instance = (
        await ctx.session.exec(select(SurveyInstance).where(SurveyInstance.key == survey_key(match.id)))
    ).first()
    if instance is None or instance.opened_at is None:
        raise CommandError("I can't find that wrap-up any more; nothing was changed.")
    return match, members, instance


async def _store(ctx: Ctx, instance: SurveyInstance, question: str, value: str) -> None:
    """Insert the person's answer, or change the one they gave before."""
    existing = (
        await ctx.session.exec(
            select(SurveyAnswer).where(
                SurveyAnswer.instance_id == instance.id,
                SurveyAnswer.question_id == question,
                SurveyAnswer.user_id == ctx.user.id,
            )
        )
    ).first()
    if existing is not None:
        existing.value, existing.answered_at = value, ctx.now
        return
    row = dict(
        instance_id=instance.id,
        question_id=question,
        respondent_key=f"user:{ctx.user.id}",
        user_id=ctx.user.id,
        value=value,
        answered_at=ctx.now,
    )
    await insert_ignore(ctx.session, SurveyAnswer, [row], ["instance_id", "question_id", "respondent_key"])


async def _record(ctx: Ctx, value: WrapRef, question: str, allowed: tuple[str, str]) -> Response:
    """Save one wrap-up answer; ends the relationship once everyone has answered both questions."""
    if value.answer not in allowed:
        return say("That isn't one of the choices; nothing was changed.")
    match, members, instance = await _wrapup_of(ctx, value.match_id)
    await _store(ctx, instance, question, value.answer)
    answers = await _answers(ctx.session, instance.id)
    answers.setdefault(ctx.user.id or 0, {})[question] = value.answer
    if all(Q_CHOICE in answers.get(u.id or 0, {}) and Q_CELEBRATE in answers.get(u.id or 0, {}) for u in members):
        await finish(ctx.core, ctx.session, match, instance)
    program = await ctx.session.get(Program, match.program_id)
    assert program is not None and instance.opened_at is not None
    goals = (await goals_by_match(ctx.session, [match.id])).get(match.id or 0, [])
    mine = answers[ctx.user.id or 0]
    message = wrapup_message(program, match, ctx.user, members, goals, mine, instance.opened_at + ANSWER_WITHIN)
    return Reply(message=message, replace_original=True)


@on_click(CHOICE)
async def choice_clicked(ctx: Ctx, value: WrapRef) -> Response:
    """[Keep meeting on our own] or [Wrap up here]."""
    return await _record(ctx, value, Q_CHOICE, (KEEP, DONE))


@on_click(CELEBRATE)
async def celebrate_clicked(ctx: Ctx, value: WrapRef) -> Response:
    """Whether to celebrate in the channel: it happens only if everyone says yes."""
    return await _record(ctx, value, Q_CELEBRATE, (YES, NO))
