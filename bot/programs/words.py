"""Everyday words people type instead of our command names: stop, snooze, feedback.

``stop``, ``unsubscribe`` and ``opt out`` mean "leave", but typed in a hurry they shouldn't end anything
on their own: they answer with a Leave button per program, so leaving is one deliberate click.
``snooze`` and ``vacation`` are ``pause``. ``feedback`` passes a few words to the program's organiser.
"""

from __future__ import annotations

from bot.chat.context import Ctx, say
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import alias, command
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.events import Reply, Response
from bot.kernel.messages import Actions, Message, Section, Text
from bot.programs.buttons import LEAVE, ProgramRef
from bot.programs.membership import memberships_of
from storage.tables import Program, User

MAX_FEEDBACK = 1000

alias("snooze", "vacation", "holiday", "break", means="pause")
alias("unsubscribe", "opt out", "optout", "quit", means="stop")


@command("stop", "stop [program]", "Stop getting matches: asks before you leave.", hidden=True)
async def stop_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    """A Leave button for each program the person is in (or the one named), and the gentler pause."""
    ref = " ".join(cmd.words) or None
    programs = [await ctx.program(ref)] if ref else await _programs_of(ctx)
    if not programs:
        return say("You're not in any program, so I won't send you matches. Nothing to stop.")
    buttons = tuple(LEAVE.button(f"Leave {p.name}", ProgramRef(p.id or 0), style="danger") for p in programs)
    text = (
        "Do you want to leave? You won't be matched again (you can `join` any time). "
        "Just need a break? `pause 2w` keeps your place."
    )
    blocks = (Section(text=Text.of(text)), Actions(elements=buttons))
    return Reply(message=Message(summary="Leave?", blocks=blocks))


async def _programs_of(ctx: Ctx) -> list[Program]:
    programs = []
    for member in await memberships_of(ctx.session, ctx.user.id):
        program = await ctx.session.get(Program, member.program_id)
        if program is not None and program.workspace_id == ctx.workspace.id:
            programs.append(program)
    return programs


@command("feedback", "feedback your words", "Tell the program's organiser what you think.")
async def feedback_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    """Your words, with your name, to whoever runs the program; nothing else is done with them."""
    words = " ".join(cmd.args).strip()
    if not words:
        return say("What would you like to tell the organisers? For example `feedback the chats are great`.")
    if len(words) > MAX_FEEDBACK:
        return say(f"That's a lot to take in; please keep it under {MAX_FEEDBACK} characters.")
    mine = await _programs_of(ctx)
    program = mine[0] if len(mine) == 1 else await ctx.program(None)
    organiser = await ctx.session.get(User, program.created_by_user_id) if program.created_by_user_id else None
    if organiser is None:
        return say(f"{program.name} has no organiser I can reach in chat; please tell your workspace admin.")
    message = Message(
        summary=f"Feedback on {program.name}",
        blocks=(Section(text=Text.of(f"💬 Feedback on **{program.name}** from {ctx.user.display_name}:\n{words}")),),
    )
    item = Outgoing(
        key=f"program:{program.id}:feedback:{ctx.user.id}:{ctx.now:%Y%m%d%H%M%S%f}",
        step="feedback",
        target=to_user(organiser.platform_user_id),
        message=message,
        program_id=program.id,
    )
    await enqueue(ctx.session, ctx.workspace.id or 0, [item], ctx.now)
    return say(f"Thanks! I've passed that on to the organiser of {program.name}.")
