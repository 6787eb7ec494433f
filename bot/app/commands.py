"""Running a command: parse it against the registry, answer unknown ones with help, dispatch the rest.

Also the two commands that belong to the app itself: ``help`` (lists every registered command) and
``status`` (the person's own view, plus program health for admins).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.admin.stats import program_stats
from bot.app.status import status_lines
from bot.chat import grammar, registry
from bot.chat.context import Ctx, say, say_lines
from bot.chat.grammar import ParsedCommand
from bot.chat.lookup import live_programs
from bot.chat.registry import Command, command
from bot.delivery.report import admin_delivery_lines
from bot.kernel.events import ChannelRef, MentionRef, Reply, Response
from bot.kernel.messages import Message, Section, Text
from bot.programs.channel_sync import sync_progress


async def run_command(
    ctx: Ctx, text: str, mentions: Sequence[MentionRef] = (), channels: Sequence[ChannelRef] = ()
) -> Response:
    """One typed command → one answer; unknown text gets the closest command or the whole help."""
    parsed = grammar.parse(text, mentions, channels)
    if parsed.command is None:
        return help_reply(parsed.suggestion, unknown=parsed.raw)
    return await registry.dispatch(ctx, parsed.command, parsed)


def help_reply(found: Command | None = None, *, unknown: str | None = None) -> Reply:
    """One command's usage, or everyone's commands then the admin commands, in registration order."""
    if found is not None:
        lead = f"I didn't understand “{unknown}”. Did you mean this?\n" if unknown else ""
        return say(f"{lead}`{found.usage}`: {found.summary}")
    known = registry.commands()
    lines = [f"`{c.usage}`: {c.summary}" for c in known if not c.admin]
    admin = [f"`{c.usage}`: {c.summary}" for c in known if c.admin]
    text = (
        "**Tandem helps you meet people: mentoring and coffee chats.**\n"
        + "\n".join(lines)
        + "\n\n**For program admins**\n"
        + "\n".join(admin)
    )
    if unknown:
        text = f"I didn't understand “{unknown}”. Here's what I can do:\n\n" + text
    return Reply(message=Message(summary="Tandem help", blocks=(Section(text=Text.of(text)),)))


@command("help", "help [command]", "Show what I can do.")
async def help_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    if cmd.args:
        wanted = " ".join(cmd.args).lower()
        found = registry.lookup(wanted) or grammar.closest(wanted)
        if found is not None:
            return help_reply(found)
    return help_reply()


@command("status", "status", "Your current match, next chat and open surveys.")
async def status_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    lines = await status_lines(ctx.core, ctx.session, ctx.user)
    if ctx.is_admin():
        programs = await live_programs(ctx.session, ctx.workspace.id)
        for program in programs:
            s = await program_stats(ctx.session, program, ctx.now)
            lines.append(
                f"🛠 {program.name}: {s.active} active, {s.paused} paused · deliveries {s.deliveries_sent} "
                f"sent, {s.deliveries_pending} waiting, {s.deliveries_failed} failed"
            )
            progress = await sync_progress(ctx.session, program.id)
            if progress is not None and progress.recent(ctx.now):
                lines.append(f"📣 {program.name}: {progress.line()}")
        lines += await admin_delivery_lines(ctx.session, programs)
    return say_lines("Your Tandem status", lines)
