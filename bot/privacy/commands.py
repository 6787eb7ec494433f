"""The privacy commands: ``my data``, ``forget me`` and the admin's ``forget @person``, with their buttons.

Forgetting can't be undone, so both forms only ask; the erasure happens on the confirm button, which
checks again who may do it (the person themselves, or a workspace admin).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.chat.context import Ctx, say
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import ButtonKind, NoValue, command, on_click
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.events import Reply, Response
from bot.kernel.messages import Actions, Message, Section, Text
from bot.privacy.erase import ForgetReason, forget_person
from bot.privacy.mydata import my_data, my_data_message
from bot.privacy.traces import is_forgotten
from bot.programs.people import find_user
from storage.tables import User


class ForgetRef(NamedTuple):
    """Who the confirm button erases (their user row id)."""

    user_id: int


FORGET = ButtonKind("privacy:forget", ForgetRef)
KEEP = ButtonKind("privacy:keep", NoValue)

WHAT_GOES = (
    "your profile, your answers in your own words, your goals and recaps, your avoid list, and your name, "
    "e-mail and chat id everywhere. Matches stay for the other person's history, shown as “Former "
    "participant”, and ratings stay only in the totals."
)


@command(
    "my data",
    "my data | forget me",
    "Everything Tandem holds about you, as a summary and a file; `forget me` erases it and leaves every program.",
)
async def _my_data(ctx: Ctx, cmd: ParsedCommand) -> Response:
    data = await my_data(ctx.session, ctx.user, ctx.now)
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            Outgoing(
                key=f"privacy:mydata:{ctx.user.id}:{ctx.now:%Y%m%d%H%M%S}",
                step="my_data",
                target=to_user(ctx.user.platform_user_id),
                message=my_data_message(data),
            )
        ],
        ctx.now,
    )
    await ctx.audit("my_data", tables=len(data["tables"]))
    return say("I've sent you a summary and a file of everything I hold about you, in a direct message.")


def _confirm(text: str, user_id: int) -> Reply:
    buttons = Actions(
        elements=(
            FORGET.button("Yes, forget", ForgetRef(user_id), style="danger"),
            KEEP.button("No, keep it", NoValue()),
        )
    )
    return Reply(message=Message(summary="Forget?", blocks=(Section(text=Text.of(text)), buttons)))


@command(
    "forget me", "forget me", "Erase everything Tandem holds about you and leave every program.", hidden=True
)  # in `my data`'s help line: help fits one screen
async def _forget_me(ctx: Ctx, cmd: ParsedCommand) -> Response:
    text = (
        "**Forget you?** You'll leave every program and I'll erase " + WHAT_GOES + " This can't be undone. "
        "(`my data` first if you'd like a copy.)"
    )
    return _confirm(text, ctx.user.id or 0)


@command(
    "forget @person", "forget @person", "Erase everything Tandem holds about someone (workspace admins).", admin=True
)
async def _forget_person(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ctx.require_admin(hint=" Only workspace admins can erase someone's data.")
    user = await find_user(ctx.session, ctx.workspace.id, cmd.mentions[0].user_id) if cmd.mentions else None
    if user is None:
        return say("Who should I forget? Mention them: `forget @person`. I don't know anyone by that name.")
    if user.id == ctx.user.id:
        return await _forget_me(ctx, cmd)
    text = (
        f"**Forget {user.display_name}?** They'll leave every program and I'll erase "
        + WHAT_GOES.replace("your ", "their ")
        + " They won't be told. This can't be undone."
    )
    return _confirm(text, user.id or 0)


@on_click(FORGET)
async def _confirmed(ctx: Ctx, value: ForgetRef) -> Response:
    user = await ctx.session.get(User, value.user_id)
    if user is None or user.workspace_id != ctx.workspace.id or is_forgotten(user):
        return say("That's done already: there is nothing left to forget.")
    self_request = user.id == ctx.user.id
    if not self_request:
        ctx.require_admin(hint=" Only workspace admins can erase someone's data.")
    reason = ForgetReason.SELF if self_request else ForgetReason.ADMIN
    done = await forget_person(ctx.session, user, ctx.now, reason, actor=ctx.user)
    if self_request:
        return say(
            f"Done: I've forgotten you. You left {done.programs_left} program(s) and I won't write to you again. "
            "Say hello any time to start afresh."
        )
    return say(f"Done: that person is forgotten ({done.programs_left} program(s) left). They weren't told.")


@on_click(KEEP)
async def _kept(ctx: Ctx, value: NoValue) -> Response:
    return say("Nothing changed: I've kept everything as it was.")
