"""`resend failed`: after fixing what stopped them (a reinstall, Tandem added back to a channel), send again.

The failure notice (bot/delivery/failures.py) and `status` point here. Registered at import.
"""

from __future__ import annotations

from bot.chat.context import Ctx, say
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import command
from bot.delivery.failures import resend_failed
from bot.kernel.events import Response
from bot.programs.commands import program_ref


@command(
    "resend failed",
    "resend failed [program]",
    "Try again the messages that could not be delivered (after fixing what stopped them).",
    admin=True,
)
async def resend_failed_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    count = await resend_failed(ctx.session, [program.id or 0], ctx.now)
    if not count:
        return say(f"Nothing of {program.name} is waiting to be sent again: every message got through.")
    await ctx.audit("resend_failed", program, count=count)
    ctx.core.wakeup.set()
    plural = "message" if count == 1 else "messages"
    return say(f"Sending {count} {plural} of {program.name} again now. `status` shows how it goes.")
