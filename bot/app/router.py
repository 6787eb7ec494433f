"""Routing neutral events to the core's services, one transaction per event.

Everything an event changes, including the messages it writes to the outbox, commits together or not
at all, so a crash or a bad input never leaves half an answer behind.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.admin.commands import on_file_uploaded
from bot.admin.risk import note_activity
from bot.app import features  # noqa: F401  (registers every feature's commands, buttons and forms)
from bot.app.commands import run_command
from bot.app.once import event_key, first_time, retry_races, turns_of
from bot.chat import registry
from bot.chat.context import Ctx
from bot.delivery.digest import splice
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.events import (
    ActionEvent,
    AppInstalledEvent,
    CommandEvent,
    DirectMessageEvent,
    Event,
    FileUploadedEvent,
    FormSubmittedEvent,
    HomeOpenedEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    NoReply,
    Place,
    Reply,
    Response,
)
from bot.kernel.messages import Message, Section, Text, text_message
from bot.kernel.runtime import Runtime
from bot.programs.membership import leave, program_for_channel
from bot.programs.people import actor_row
from bot.programs.reach import reach

log = logging.getLogger("tandem.handler")

CLICK_APOLOGY = "Sorry, something went wrong on my side, so nothing was changed. Please try again in a minute."


async def handle_event(core: Runtime, event: Event) -> Response:
    """Act on one event: in its person's turn, once per platform id, run again if it lost a race.

    The rules themselves live in bot/app/once.py; jobs the event left for after its commit (a ``match
    now`` round) still run in the person's turn, so their next event sees the outcome.
    """
    async with turns_of(core).turn(event.actor):
        try:
            response, later = await retry_races(lambda: _in_transaction(core, event), type(event).__name__)
        except Exception as exc:
            if not isinstance(event, ActionEvent | FormSubmittedEvent):
                raise
            # a person clicked (or sent a form) and waits for an answer: the transaction rolled back whole,
            # so say so plainly instead of leaving them with a button that did nothing
            log.error(
                "%s by %s failed, nothing was changed: %s: %s",
                type(event).__name__,
                event.actor.user_id,
                type(exc).__name__,
                (str(exc).splitlines() or [""])[0][:300],  # one line: a database error carries its whole SQL
            )
            log.debug("the failure in full", exc_info=True)
            return Reply(message=text_message(CLICK_APOLOGY))
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
        return await run_command(ctx, event.text, event.mentions, event.channels)
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


async def on_action(ctx: Ctx, event: ActionEvent) -> Response:
    """A click: the button registry finds the feature's handler and decodes the value for it."""
    response = await registry.click(ctx, event.action_id, event.value)
    return await splice(ctx.session, ctx.workspace.id, event, response)  # a click inside a day's digest


async def on_form(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """A submitted form: the form registry finds the feature's handler."""
    return await registry.submit(ctx, event)


async def on_member_joined(ctx: Ctx, event: MemberJoinedEvent) -> Response:
    """Never enrol silently: opt-in programs invite; opt-out programs tell people and offer to leave."""
    program = await program_for_channel(ctx.session, ctx.workspace.id, event.channel_id)
    if program is None:
        return NoReply()
    _, outgoing = await reach(ctx.session, program, ctx.user, ctx.now, arrived=True)
    if outgoing is not None:
        await enqueue(ctx.session, ctx.workspace.id or 0, [outgoing], ctx.now)
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
