"""Pulse surveys inside the chat: buttons for choices and ratings, a form for free text.

One answer per person per question and survey instance, changeable until the survey closes. Anonymous
surveys store answers under a salted token instead of the person; the salt is wiped when the survey
closes, after which nobody (not even a database admin) can link an answer to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import CommandError
from bot.chat.registry import ButtonKind, encode
from bot.chat.visibility import survey_line
from bot.content import OptionFlag, QuestionKind, SurveyDefinition, SurveyQuestion, load_library
from bot.delivery.notify import notify_admins
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.engagement.celebrations import on_meeting_reported
from bot.engagement.custom_content import note_no_questions, questions_exist, with_custom_questions
from bot.engagement.survey_ids import DID_YOU_MEET, MET, YES
from bot.kernel.messages import Actions, Context, Form, Header, Message, RatingInput, Section, Text, TextInput
from bot.kernel.runtime import Runtime
from bot.programs.matches import about_line, end_match, members_of
from storage.enums import EndReason, MatchStatus, MeetingState
from storage.tables import (
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
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.surveys")


class AnswerRef(NamedTuple):
    """A choice or rating button: which survey, which question, which answer."""

    instance_id: int
    question_id: str
    answer: str


class QuestionRef(NamedTuple):
    """A comment button, and the comment form's state: which survey and question."""

    instance_id: int
    question_id: str


ANSWER = ButtonKind("survey:answer", AnswerRef)
COMMENT = ButtonKind("survey:comment", QuestionRef)
FORM = "survey_text"
OPEN_FOR = timedelta(days=4)
REMIND_AFTER = timedelta(days=2)


REMATCH_NOTE = (
    "Thanks for telling us. You'll get a new match in the next round (not with the same person), and "
    "the program team has been told privately."
)


class SurveyError(CommandError):
    """A survey click that can't be taken; the message is for the person."""


@dataclass(frozen=True)
class AnswerOutcome:
    text: str
    changed: bool
    flags: tuple[str, ...] = ()


def definition(definition_id: str) -> SurveyDefinition:
    """The library survey alone (use ``definition_for`` to include the program's own questions)."""
    return load_library().survey(definition_id)


async def definition_for(session: AsyncSession, instance: SurveyInstance) -> SurveyDefinition:
    """The survey as this instance was sent: library questions plus the program's, as of opening time."""

    return await with_custom_questions(
        session, instance.program_id, definition(instance.definition_id), instance.opened_at
    )


def respondent_key(instance: SurveyInstance, user_id: int) -> str:
    if not instance.anonymous:
        return f"user:{user_id}"
    if not instance.salt:
        raise SurveyError("This survey has closed.")
    digest = hmac.new(instance.salt.encode(), f"{instance.id}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"anon:{digest[:40]}"


@dataclass(frozen=True)
class SurveyAsk:
    """One survey to open (once per key) for some people, optionally about a match."""

    definition_id: str
    key: str
    recipients: list[User]
    match: Match | None = None
    round_id: int | None = None
    members: list[User] = field(default_factory=list)  # everyone in the match, so each message names the others


async def open_survey(
    core: Runtime,
    session: AsyncSession,
    program: Program,
    definition_id: str,
    key: str,
    recipients: list[User],
    *,
    match: Match | None = None,
    round_id: int | None = None,
) -> int:
    """Create the instance (once per key) and write one message per recipient to the outbox."""
    return await open_surveys(core, session, program, [SurveyAsk(definition_id, key, recipients, match, round_id)])


_BY_KEYS = select(SurveyInstance).where(col(SurveyInstance.key).in_(bindparam("keys", expanding=True)))


async def _by_keys(session: AsyncSession, keys: list[str]) -> dict[str, SurveyInstance]:
    """Instances by key, 500 keys per query to stay under the drivers' parameter limits."""
    found: dict[str, SurveyInstance] = {}
    for start in range(0, len(keys), 500):
        found.update(
            (i.key, i) for i in (await session.exec(_BY_KEYS, params={"keys": keys[start : start + 500]})).all()
        )
    return found


def _instance_row(program: Program, ask: SurveyAsk, now: datetime) -> dict[str, Any]:
    """A new instance's columns; anonymous surveys get a salt so answers can't be traced to people."""
    anonymous = definition(ask.definition_id).anonymous
    return dict(
        key=ask.key,
        program_id=program.id,
        round_id=ask.round_id,
        match_id=ask.match.id if ask.match else None,
        definition_id=ask.definition_id,
        anonymous=anonymous,
        opened_at=now,
        closes_at=now + OPEN_FOR,
        salt=secrets.token_hex(16) if anonymous else None,
        reminded_at=None,
        closed_at=None,
    )


async def _instances(
    session: AsyncSession, program: Program, asks: list[SurveyAsk], now: datetime
) -> tuple[dict[str, SurveyInstance], set[str]]:
    """Every ask's instance by key, creating the missing ones; also which keys were created now."""
    found = await _by_keys(session, [a.key for a in asks])
    fresh = [a for a in asks if a.key not in found]
    if fresh:
        await insert_ignore(session, SurveyInstance, [_instance_row(program, a, now) for a in fresh], ["key"])
        found.update(await _by_keys(session, [a.key for a in fresh]))
    return found, {a.key for a in fresh}


def _asks_out(program: Program, ask: SurveyAsk, instance: SurveyInstance, survey: SurveyDefinition) -> list[Outgoing]:
    """One survey message per recipient, naming the others in the match; keyed so a retry never asks twice."""
    return [
        Outgoing(
            key=f"survey:{instance.key}:ask:{user.id}",
            step=f"survey:{ask.definition_id}",
            target=to_user(user.platform_user_id),
            message=survey_message(instance, survey, about=about_line(user, ask.members)),
            program_id=program.id,
            round_id=ask.round_id,
            match_id=instance.match_id,
        )
        for user in ask.recipients
    ]


async def open_surveys(core: Runtime, session: AsyncSession, program: Program, asks: list[SurveyAsk]) -> int:
    """Open many surveys in a handful of statements (a weekly check-in opens one per match).

    Instances are created insert-or-ignore by key and read back in one query; recipients and messages are
    written in one batch each, in the order of ``asks``, so deliveries go out in the same order as one by one.
    """
    if not asks:
        return 0
    now = core.clock.now()
    found, _ = await _instances(session, program, asks, now)
    recipients: list[dict] = []
    items: list[Outgoing] = []
    for ask in asks:
        instance = found[ask.key]
        survey = await definition_for(session, instance)
        recipients.extend({"instance_id": instance.id, "user_id": u.id, "answered": False} for u in ask.recipients)
        items.extend(_asks_out(program, ask, instance, survey))
    return await _write(session, program, recipients, items, now)


async def _write(
    session: AsyncSession, program: Program, recipients: list[dict], items: list[Outgoing], now: datetime
) -> int:
    await insert_ignore(session, SurveyRecipient, recipients, ["instance_id", "user_id"])
    return await enqueue(session, program.workspace_id, items, now)


async def _insert_ignore(session: AsyncSession, table: type, values: dict, keys: list[str]) -> None:
    await insert_ignore(session, table, [values], keys)


def _question_blocks(instance: SurveyInstance, question: SurveyQuestion, chosen: str | None) -> list:
    blocks: list = [Section(text=Text.of(f"**{question.text}**"))]
    instance_id = instance.id or 0
    if question.kind is QuestionKind.CHOICE:
        buttons = [
            ANSWER.button(("✓ " if chosen == o.value else "") + o.label, AnswerRef(instance_id, question.id, o.value))
            for o in question.options
        ]
        blocks.append(Actions(elements=tuple(buttons)))
    elif question.kind is QuestionKind.RATING:
        buttons = [
            ANSWER.button(("✓ " if chosen == str(n) else "") + str(n), AnswerRef(instance_id, question.id, str(n)))
            for n in question.scale
        ]
        blocks.append(Actions(elements=tuple(buttons)))
        if question.labels:
            blocks.append(
                Context(
                    text=Text.of(f"{question.min} = {question.labels.low} · {question.max} = {question.labels.high}")
                )
            )
    else:
        label = "Edit your comment" if chosen else "Add a comment"
        blocks.append(Actions(elements=(COMMENT.button(label, QuestionRef(instance_id, question.id)),)))
        if chosen:
            blocks.append(Context(text=Text.of(f"Your comment: {chosen[:200]}")))
    return blocks


def survey_message(
    instance: SurveyInstance,
    survey: SurveyDefinition,
    answers: dict[str, str] | None = None,
    closed: bool = False,
    about: str | None = None,
) -> Message:
    answers = answers or {}
    blocks: list = [Header(text=survey.title)]
    if about:
        blocks.append(Context(text=Text.of(about)))
    if survey.intro:
        blocks.append(Context(text=Text.of(survey.intro)))
    blocks.append(Context(text=Text.of(survey_line(survey.anonymous))))
    if closed:
        summary = ", ".join(f"{q.text} {answers[q.id]}" for q in survey.questions if q.id in answers)
        blocks.append(
            Section(
                text=Text.of("This survey has closed. " + (f"Your answers: {summary}" if summary else "Thanks anyway!"))
            )
        )
    else:
        for question in survey.questions:
            blocks.extend(_question_blocks(instance, question, answers.get(question.id)))
        if answers:
            blocks.append(Context(text=Text.of("✓ Saved. You can change your answer until the survey closes.")))
    return Message(summary=survey.title, blocks=tuple(blocks))


async def instance_for(session: AsyncSession, instance_id: int, user: User) -> SurveyInstance:
    """The open survey instance this person was sent (SurveyError otherwise: closed, gone, someone else's)."""
    return (await _instance_and_recipient(session, instance_id, user))[0]


# Statements on the path of every survey click, built once (building one costs more than running it).
# The click's survey, the person's recipient row, the pair's match (answers may update it) and whether the
# program has custom questions at all, in one query.
_INSTANCE_AND_RECIPIENT = (
    select(SurveyInstance, SurveyRecipient, Match, questions_exist(SurveyInstance.program_id).label("custom"))
    .outerjoin(
        SurveyRecipient,
        and_(
            col(SurveyRecipient.instance_id) == SurveyInstance.id, col(SurveyRecipient.user_id) == bindparam("user_id")
        ),
    )
    .outerjoin(Match, col(Match.id) == SurveyInstance.match_id)
    .where(SurveyInstance.id == bindparam("instance_id"))
)
_ANSWERS = select(SurveyAnswer).where(
    SurveyAnswer.instance_id == bindparam("instance_id"), SurveyAnswer.respondent_key == bindparam("respondent_key")
)


async def _instance_and_recipient(
    session: AsyncSession, instance_id: int, user: User
) -> tuple[SurveyInstance, SurveyRecipient]:
    instance, asked, _match = await _click_rows(session, instance_id, user)
    return instance, asked


async def _click_rows(
    session: AsyncSession, instance_id: int, user: User
) -> tuple[SurveyInstance, SurveyRecipient, Match | None]:
    """The survey, the person's recipient row and the survey's match (the caller holds on to it: the session
    only keeps objects that are referenced, so dropping it would cost another query later)."""
    row = (await session.exec(_INSTANCE_AND_RECIPIENT, params={"instance_id": instance_id, "user_id": user.id})).first()
    if row is None:
        raise SurveyError("I can't find that survey any more.")
    instance, asked, match, custom = row
    if not custom:
        note_no_questions(session, instance.program_id)
    if asked is None:
        raise SurveyError("This survey was sent to someone else.")
    if instance.closed_at is not None:
        raise SurveyError("This survey has closed; thanks all the same.")
    return instance, asked, match


async def _store(
    session: AsyncSession,
    instance: SurveyInstance,
    question: SurveyQuestion,
    user: User,
    key: str,
    existing: SurveyAnswer | None,
    value: str,
    now: datetime,
) -> None:
    """Insert the answer or update the one given before; anonymous ones without the person and the time."""
    # Anonymous answers keep only the day: an exact time could be lined up with other traces of who acted when.
    stamp = now.replace(hour=0, minute=0, second=0, microsecond=0) if instance.anonymous else now
    if existing is None:
        await _insert_ignore(
            session,
            SurveyAnswer,
            {
                "instance_id": instance.id,
                "question_id": question.id,
                "respondent_key": key,
                "user_id": None if instance.anonymous else user.id,
                "value": value,
                "answered_at": stamp,
            },
            ["instance_id", "question_id", "respondent_key"],
        )
    else:
        existing.value = value
        existing.answered_at = stamp


def _flags(question: SurveyQuestion, value: str) -> tuple[str, ...]:
    """The chosen option's flags (rematch, alert admins...); other kinds of question have none."""
    if question.kind is QuestionKind.CHOICE:
        return tuple(str(f) for f in question.option(value).flags)
    return ()


def _thanks(changed: bool, flags: tuple[str, ...]) -> str:
    """The reply to an answer: a rematch request says what happens next."""
    if OptionFlag.REMATCH.value in flags:
        return REMATCH_NOTE
    return "Thanks, saved." if changed else "Already saved; nothing changed."


async def record_answer(
    core: Runtime, session: AsyncSession, user: User, instance_id: int, question_id: str, value: str
) -> tuple[AnswerOutcome, Message]:
    """Store (or change) one answer; a repeated click with the same value changes nothing."""
    instance, recipient, match = await _click_rows(session, instance_id, user)
    survey = await definition_for(session, instance)
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        raise SurveyError("That question is not part of this survey.")
    value = _validate(question, value)
    now = core.clock.now()
    key = respondent_key(instance, user.id or 0)
    mine = {
        row.question_id: row
        for row in (await session.exec(_ANSWERS, params={"instance_id": instance.id, "respondent_key": key})).all()
    }
    existing = mine.get(question.id)
    changed = existing is None or existing.value != value
    if changed:
        await _store(session, instance, question, user, key, existing, value, now)
    recipient.answered = True
    flags = _flags(question, value)
    if changed:
        await _apply_effects(core, session, instance, match, question, value, user, flags)
    answers = {qid: row.value for qid, row in mine.items()} | {question.id: value}
    about = about_line(user, [u for _, u in await members_of(session, match.id)]) if match is not None else None
    return AnswerOutcome(text=_thanks(changed, flags), changed=changed, flags=flags), survey_message(
        instance, survey, answers, about=about
    )


def _validate(question: SurveyQuestion, value: str) -> str:
    value = value.strip()
    if question.kind is QuestionKind.CHOICE:
        if value not in {o.value for o in question.options}:
            raise SurveyError("That isn't one of the choices.")
    elif question.kind is QuestionKind.RATING:
        if not value.isdigit() or int(value) not in question.scale:
            raise SurveyError(f"Please pick a number from {question.min} to {question.max}.")
    else:
        if question.required and not value:
            raise SurveyError("Please write something, or close the form.")
        if len(value) > question.max_length:
            raise SurveyError(f"Please keep it under {question.max_length} characters.")
    return value


async def my_answers(session: AsyncSession, instance: SurveyInstance, user: User) -> dict[str, str]:
    key = respondent_key(instance, user.id or 0)
    rows = (await session.exec(_ANSWERS, params={"instance_id": instance.id, "respondent_key": key})).all()
    return {row.question_id: row.value for row in rows}


def comment_form(instance_id: int, question: SurveyQuestion, current: str = "", *, anonymous: bool = False) -> Form:
    return Form(
        form_id=FORM,
        title="Your comment",
        submit_label="Send",
        intro=survey_line(anonymous),
        state=encode(QuestionRef(instance_id, question.id)),
        fields=(
            TextInput(
                field_id="answer",
                label=question.text,
                placeholder=question.placeholder or "",
                initial=current,
                multiline=True,
                optional=not question.required,
                max_length=question.max_length,
            ),
        ),
    )


def rating_form(instance_id: int, question: SurveyQuestion, *, anonymous: bool = False) -> Form:
    return Form(
        form_id=FORM,
        title="Your rating",
        intro=survey_line(anonymous),
        state=encode(QuestionRef(instance_id, question.id)),
        fields=(RatingInput(field_id="answer", label=question.text, minimum=question.min, maximum=question.max),),
    )


async def _flag_asker(session: AsyncSession, program_id: int, user: User) -> None:
    member = (
        await session.exec(select(Membership).where(Membership.program_id == program_id, Membership.user_id == user.id))
    ).first()
    if member is not None:
        member.wants_rematch = True  # read by the next round only, then cleared


async def _mark_last_chat_held(session: AsyncSession, match: Match, now: datetime) -> None:
    """ "Yes, we met" counts their latest booked chat that has ended, so its own "We met" can't count it twice."""
    meeting = (
        await session.exec(
            select(Meeting)
            .where(
                Meeting.match_id == match.id,
                Meeting.state == MeetingState.CONFIRMED.value,
                col(Meeting.end_at) <= now,
                col(Meeting.held_at).is_(None),
            )
            .order_by(col(Meeting.end_at).desc())
        )
    ).first()
    if meeting is not None:
        meeting.held_at = now


async def _apply_effects(
    core: Runtime,
    session: AsyncSession,
    instance: SurveyInstance,
    match: Match | None,
    question: SurveyQuestion,
    value: str,
    user: User,
    flags: tuple[str, ...],
) -> None:
    """What an answer sets in motion: a met pair, a rematch next round, a private note to admins."""

    if instance.definition_id == DID_YOU_MEET and question.id == MET and match is not None:
        if value == YES and match.status not in (MatchStatus.MET.value, MatchStatus.ENDED.value):
            match.status = MatchStatus.MET.value
            match.met_at = match.met_at or core.clock.now()
            match.meetings_count += 1
            await _mark_last_chat_held(session, match, core.clock.now())
            await on_meeting_reported(core, session, match)
    if OptionFlag.REMATCH.value in flags and match is not None:
        # "not a fit" or "can't meet": this match ends (and only this one); both get someone new next round,
        # and the next round keeps whoever asked apart from the others (bot.relationships.rounds.rematch_avoids)
        end_match(match, EndReason.REMATCH, core.clock.now())
        await _flag_asker(session, instance.program_id, user)
    if OptionFlag.NOTIFY_ADMINS.value in flags:
        program = await session.get(Program, instance.program_id)
        if program is not None:
            who = "Someone (anonymous survey)" if instance.anonymous else user.display_name
            await notify_admins(
                core,
                session,
                program,
                key=f"survey:{instance.key}:flag:{question.id}:{user.id}",
                text=f"{who} answered “{question.option(value).label}” to “{question.text}” in "
                f"{program.name}. They'll get a new match next round.",
            )


async def close_and_remind(core: Runtime) -> None:
    """Remind once those who haven't answered; close surveys past their time (and wipe anonymous salts).

    Three queries and one write batch whatever the number of surveys: the surveys due a reminder (by id),
    everyone of theirs who hasn't answered (by survey, then by when they were asked: the order the reminders
    go out in), and the surveys to close.
    """
    now = core.clock.now()
    async with core.db.transaction() as session:
        due = (
            await session.exec(
                select(SurveyInstance, Match.status)
                .outerjoin(Match, col(Match.id) == SurveyInstance.match_id)
                .where(
                    col(SurveyInstance.closed_at).is_(None),
                    col(SurveyInstance.reminded_at).is_(None),
                    col(SurveyInstance.opened_at) <= now - REMIND_AFTER,
                )
                .order_by(col(SurveyInstance.id))
            )
        ).all()
        to_remind = []
        for instance, match_status in due:
            if match_status == MatchStatus.ENDED.value:
                instance.reminded_at = now  # an ended relationship hears nothing more, not even a reminder
            else:
                to_remind.append(instance)
        if to_remind:
            await _remind(core, session, to_remind, now)
        to_close = (
            await session.exec(
                select(SurveyInstance).where(
                    col(SurveyInstance.closed_at).is_(None), col(SurveyInstance.closes_at) <= now
                )
            )
        ).all()
        for instance in to_close:
            instance.closed_at = now
            instance.salt = None


async def _remind(core: Runtime, session: AsyncSession, to_remind: list[SurveyInstance], now: datetime) -> None:
    waiting: dict[int, list[User]] = {}
    ids = [i.id for i in to_remind]
    for start in range(0, len(ids), 500):
        rows = (
            await session.exec(
                select(SurveyRecipient.instance_id, User)
                .join(User, col(User.id) == SurveyRecipient.user_id)
                .where(
                    col(SurveyRecipient.instance_id).in_(ids[start : start + 500]),
                    col(SurveyRecipient.answered).is_(False),
                )
                .order_by(col(SurveyRecipient.instance_id), col(SurveyRecipient.id))
            )
        ).all()
        for instance_id, user in rows:
            waiting.setdefault(instance_id, []).append(user)
    by_workspace: dict[int, list[Outgoing]] = {}
    for instance in to_remind:
        program = await session.get(Program, instance.program_id)
        survey = await definition_for(session, instance)
        instance.reminded_at = now
        if program is None:
            continue
        reminder = Message(
            summary=f"Reminder: {survey.title}",
            blocks=(
                Section(text=Text.of(f"A gentle reminder: **{survey.title}** closes soon. It takes one tap.")),
                *survey_message(instance, survey).blocks[1:],
            ),
        )
        by_workspace.setdefault(program.workspace_id, []).extend(
            Outgoing(
                key=f"survey:{instance.key}:remind:{u.id}",
                step="survey:reminder",
                target=to_user(u.platform_user_id),
                program_id=instance.program_id,
                match_id=instance.match_id,
                message=reminder,
            )
            for u in waiting.get(instance.id or 0, [])
        )
    for workspace_id, items in by_workspace.items():
        await enqueue(session, workspace_id, items, now)


async def match_recipients(session: AsyncSession, match: Match) -> list[User]:
    return list(
        (
            await session.exec(
                select(User)
                .join(MatchMember, col(MatchMember.user_id) == User.id)
                .where(MatchMember.match_id == match.id)
                .order_by(col(User.id))
            )
        ).all()
    )
