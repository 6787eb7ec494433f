"""Routing neutral events to the core's services, one transaction per event.

Everything an event changes, including the messages it writes to the outbox, commits together or not
at all, so a crash or a bad input never leaves half an answer behind.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.admin.commands import on_file_uploaded
from bot.admin.risk import note_activity
from bot.admin.risk_actions import ADMIN_ACTIONS
from bot.app.commands import run_command
from bot.app.once import event_key, first_time, retry_races, turns_of
from bot.booking import offers as booking
from bot.chat.context import Ctx, say
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.engagement import surveys
from bot.kernel.events import (
    ActionEvent,
    AppInstalledEvent,
    CommandEvent,
    DirectMessageEvent,
    Event,
    FileUploadedEvent,
    FormErrors,
    FormSubmittedEvent,
    HomeOpenedEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    NoReply,
    OpenForm,
    Place,
    Reply,
    Response,
)
from bot.kernel.messages import Actions, Button, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.forms import PROFILE, PROGRAM_CREATE, PROGRAM_SETTINGS, apply_profile, profile_form
from bot.programs.membership import (
    JOIN,
    LEAVE,
    PROFILE_OPEN,
    RESUME,
    ProgramError,
    create_program,
    invite,
    join,
    leave,
    membership,
    parse_spec,
    program_for_channel,
    resume,
)
from bot.programs.people import actor_row
from storage.enums import Enrolment, MembershipStatus
from storage.tables import Program

log = logging.getLogger("tandem.handler")


async def handle_event(core: Runtime, event: Event) -> Response:
    """Act on one event: in its person's turn, once per platform id, run again if it lost a race.

    The rules themselves live in bot/app/once.py; jobs the event left for after its commit (a ``match
    now`` round) still run in the person's turn, so their next event sees the outcome.
    """
    async with turns_of(core).turn(event.actor):
        response, later = await retry_races(lambda: _in_transaction(core, event), type(event).__name__)
        for job in later:
            await job()
    core.wakeup.set()
    return response


async def _in_transaction(core: Runtime, event: Event) -> tuple[Response, list[Callable[[], Awaitable[object]]]]:
    """One attempt: everything the event changes, its processed_event key included, commits together."""
    actor = event.actor
    place = getattr(event, "place", Place())
    async with core.db.transaction() as session:
        key = event_key(event)
        if key and not await first_time(session, key, core.clock.now()):
            log.info("%s %s was handled already (a retry or a double click); ignored", type(event).__name__, key)
            return NoReply(), []
        workspace, user, ignoring = await actor_row(session, actor, core.clock.now())
        ctx = Ctx(core=core, session=session, workspace=workspace, user=user, actor=actor, place=place)
        if ignoring and isinstance(event, ActionEvent | FormSubmittedEvent):
            await note_activity(session, user.id)  # acting resets the ignored-intros count (bot/risk.py)
        response = await _route(ctx, event)
    return response, list(ctx.later)


async def _route(ctx: Ctx, event: Event) -> Response:
    if isinstance(event, CommandEvent | DirectMessageEvent):
        return await run_command(ctx, event.text)
    if isinstance(event, ActionEvent):
        return await on_action(ctx, event)
    if isinstance(event, FormSubmittedEvent):
        return await on_form(ctx, event)
    if isinstance(event, MemberJoinedEvent):
        return await on_member_joined(ctx, event)
    if isinstance(event, MemberLeftEvent):
        program = await program_for_channel(ctx.session, ctx.workspace.id, event.channel_id)
        if program is not None:
            await leave(ctx.session, program, ctx.user, ctx.now)
        return NoReply()
    if isinstance(event, AppInstalledEvent):
        return await on_installed(ctx, event)
    if isinstance(event, HomeOpenedEvent):
        return NoReply()
    if isinstance(event, FileUploadedEvent):
        return await on_file_uploaded(ctx, event)
    log.warning("unhandled event type %s", type(event).__name__)
    return NoReply()


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


async def on_action(ctx: Ctx, event: ActionEvent) -> Response:
    action, value = event.action_id, event.value
    try:
        if action in (JOIN, LEAVE, PROFILE_OPEN):
            program = await ctx.session.get(Program, _int(value) or -1)
            if program is None or program.workspace_id != ctx.workspace.id:
                return say("That program no longer exists.")
            if action == JOIN:
                member, created = await join(ctx.session, program, ctx.user, ctx.now)
                text = (
                    f"You're in {program.name} as {member.role}! Set up your `profile` so I can match you well."
                    if created
                    else f"You're already in {program.name}."
                )
                return Reply(
                    message=Message(
                        summary=text,
                        blocks=(
                            Section(text=Text.of(text)),
                            Actions(
                                elements=(
                                    Button(label="Edit my profile", action_id=PROFILE_OPEN, value=str(program.id)),
                                )
                            ),
                        ),
                    ),
                    replace_original=True,
                )
            if action == LEAVE:
                left = await leave(ctx.session, program, ctx.user, ctx.now)
                return Reply(
                    message=Message(
                        summary="Left",
                        blocks=(
                            Section(
                                text=Text.of(
                                    f"You've left {program.name}." if left else f"You're not in {program.name}."
                                )
                            ),
                        ),
                    ),
                    replace_original=True,
                )
            member = await membership(ctx.session, program.id, ctx.user.id)
            if member is None or member.status != MembershipStatus.ACTIVE.value:
                return say(f"Join {program.name} first.")
            return OpenForm(form=profile_form(program, ctx.user, member))
        if action == RESUME:
            count = await resume(ctx.session, ctx.user, ctx.now)
            return say("Welcome back! You're in the next round again." if count else "You weren't paused.")
        if action == booking.PROPOSE:
            meeting_id, _, slot = value.partition(":")
            if not meeting_id.isdigit() or not slot.isdigit():
                return say("That button is damaged; please use the latest message.")
            return say(
                await booking.propose(
                    ctx.core, ctx.session, ctx.workspace.platform, ctx.user, int(meeting_id), int(slot)
                )
            )
        if action == booking.ACCEPT:
            return say(await booking.accept(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, _int(value) or -1))
        if action == booking.DECLINE:
            return say(
                await booking.decline(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, _int(value) or -1)
            )
        if action == surveys.ANSWER:
            instance_id, question_id, answer = surveys.parse_answer_value(value)
            outcome, updated = await surveys.record_answer(
                ctx.core, ctx.session, ctx.user, instance_id, question_id, answer
            )
            if outcome.text == surveys.REMATCH_NOTE:  # say what happens next, not just "saved"
                updated = updated.model_copy(update={"blocks": (*updated.blocks, Section(text=Text.of(outcome.text)))})
            return Reply(message=updated, replace_original=True)
        if action == surveys.COMMENT:
            instance_id, _, question_id = value.partition("|")
            instance = await surveys._instance(ctx.session, _int(instance_id) or -1, ctx.user)
            question = next(
                (q for q in (await surveys.definition_for(ctx.session, instance)).questions if q.id == question_id),
                None,
            )
            if question is None:
                return say("That question is not part of this survey.")
            current = (await surveys.my_answers(ctx.session, instance, ctx.user)).get(question.id, "")
            return OpenForm(form=surveys.comment_form(instance.id or 0, question, current))
        if action.startswith("link:"):
            return NoReply()
        if action in ADMIN_ACTIONS:  # the at-risk digest's buttons (bot/admin_actions.py)
            return await ADMIN_ACTIONS[action](ctx, value)
    except (booking.BookingError, surveys.SurveyError, ProgramError) as exc:
        return say(str(exc))
    log.info("unknown action id %r ignored", action)
    return say("That button isn't something I know any more; nothing was changed.")


async def on_form(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    if event.form_id in (PROGRAM_CREATE, PROGRAM_SETTINGS):
        return await _program_form(ctx, event)
    if event.form_id == PROFILE:
        program = await ctx.session.get(Program, _int(event.state) or -1)
        member = await membership(ctx.session, program.id, ctx.user.id) if program else None
        if program is None or member is None:
            return say("That program no longer exists or you're not in it.")
        errors = apply_profile(program, ctx.user, member, event.values)
        if errors:
            return FormErrors(errors=errors)
        return say(f"Saved your profile for {program.name}. It shapes your next match.")
    if event.form_id == surveys.FORM:
        instance_id, _, question_id = event.state.partition("|")
        raw = event.values.get("answer")
        text = raw[0] if isinstance(raw, list) and raw else (raw or "")
        try:
            outcome, _ = await surveys.record_answer(
                ctx.core, ctx.session, ctx.user, _int(instance_id) or -1, question_id, str(text)
            )
        except surveys.SurveyError as exc:
            return FormErrors(errors={"answer": str(exc)})
        return say(outcome.text)
    log.info("unknown form id %r ignored", event.form_id)
    return say("That form isn't something I know any more; nothing was changed.")


async def _program_form(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    existing = await ctx.session.get(Program, _int(event.state) or -1) if event.form_id == PROGRAM_SETTINGS else None
    if event.form_id == PROGRAM_SETTINGS and (existing is None or existing.workspace_id != ctx.workspace.id):
        return say("That program no longer exists.")
    if not ctx.is_admin(existing):
        return say("Sorry, only program admins can do that; nothing was changed.")
    spec, errors = parse_spec(event.values, ctx.core.default_timezone)
    if errors or spec is None:
        return FormErrors(errors=errors)
    if existing is None:
        try:
            program = await create_program(ctx.session, ctx.workspace, ctx.user, spec, ctx.now)
        except ProgramError as exc:
            return FormErrors(errors={"channel": str(exc)})
        await ctx.audit("program_create", program, name=program.name, channel=program.channel_id)
        return say(
            f"Created **{program.name}** in #{program.channel_id}. People who join the channel get an "
            f"invitation; `match now` runs the first round whenever you're ready.",
            ephemeral=True,
        )
    other = await program_for_channel(ctx.session, ctx.workspace.id, spec.channel_id)
    if other is not None and other.id != existing.id:
        return FormErrors(errors={"channel": f"#{spec.channel_id} already runs '{other.name}'."})
    existing.name, existing.channel_id, existing.kind = spec.name, spec.channel_id, spec.kind
    existing.cadence, existing.intro_weekday, existing.intro_time = spec.cadence, spec.weekday, spec.time
    existing.timezone, existing.group_size, existing.enrolment = spec.timezone, spec.group_size, spec.enrolment
    existing.meeting_minutes, existing.reminder_minutes = spec.meeting_minutes, spec.reminder_minutes
    existing.holidays = list(spec.holidays)
    await ctx.audit("program_settings", existing, **{k: str(v) for k, v in spec.__dict__.items()})
    return say(f"Saved the settings of {existing.name}.")


async def on_member_joined(ctx: Ctx, event: MemberJoinedEvent) -> Response:
    """Never enrol silently: opt-in programs invite; opt-out programs tell people and offer to leave."""
    program = await program_for_channel(ctx.session, ctx.workspace.id, event.channel_id)
    if program is None or ctx.user.is_bot:
        return NoReply()
    existing = await membership(ctx.session, program.id, ctx.user.id)
    if existing is not None and existing.status == MembershipStatus.ACTIVE.value:
        return NoReply()
    if program.enrolment == Enrolment.OPT_OUT.value:
        await join(ctx.session, program, ctx.user, ctx.now)
        text = (
            f"👋 Welcome to #{program.channel_id}! This channel runs **{program.name}**, so you're in: "
            "I'll introduce you to someone new each round. Not for you? One click and you're out."
        )
        button = Button(label="Leave the program", action_id=LEAVE, value=str(program.id), style="danger")
    else:
        await invite(ctx.session, program, ctx.user, ctx.now)
        text = (
            f"👋 Welcome to #{program.channel_id}! This channel runs **{program.name}**: I introduce people "
            "to each other and help them book a chat. Want in?"
        )
        button = Button(label="Join", action_id=JOIN, value=str(program.id), style="primary")
    message = Message(
        summary=f"About {program.name}", blocks=(Section(text=Text.of(text)), Actions(elements=(button,)))
    )
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            Outgoing(
                key=f"program:{program.id}:welcome:{ctx.user.id}:{ctx.now:%Y%m%d}",
                step="welcome",
                target=to_user(ctx.user.platform_user_id),
                message=message,
                program_id=program.id,
            )
        ],
        ctx.now,
    )
    return NoReply()


async def on_installed(ctx: Ctx, event: AppInstalledEvent) -> Response:
    if event.workspace_name:
        ctx.workspace.name = event.workspace_name
    ctx.workspace.uninstalled_at = None
    text = (
        "Thanks for adding Tandem! Start a program with `program create`, or type `help` to see everything. "
        "People are only ever enrolled with their consent."
    )
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            Outgoing(
                key=f"workspace:{ctx.workspace.id}:installed:{ctx.user.id}:{ctx.now:%Y%m%d}",
                step="installed",
                target=to_user(ctx.user.platform_user_id),
                message=Message(summary="Thanks for adding Tandem", blocks=(Section(text=Text.of(text)),)),
            )
        ],
        ctx.now,
    )
    return NoReply()
