"""Running a command: parse it against the registry, answer unknown ones with a hint, dispatch the rest.

Also the two commands that belong to the app itself: ``help`` (a participant's commands; ``help admin`` the
organisers') and
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
    """One typed command → one answer; unknown text gets one short line naming the closest command."""
    parsed = grammar.parse(text, mentions, channels)
    if parsed.command is None:
        return unknown_reply(parsed.raw, parsed.suggestion)
    return await registry.dispatch(ctx, parsed.command, parsed)


def unknown_reply(raw: str, suggestion: Command | None) -> Reply:
    """One line, not the whole help: what they might have meant, and where the rest is."""
    if suggestion is not None:
        return say(f"I didn't understand “{raw}”. Did you mean `{suggestion.usage}`? (`help` lists the rest.)")
    return say(f"I didn't understand “{raw}”. Type `help` to see what I can do.")


def _lines(known: Sequence[Command]) -> str:
    return "\n".join(f"`{c.usage}`: {c.summary}" for c in known)


def help_reply(found: Command | None = None, *, admin: bool = False) -> Reply:
    """One command's usage; or the participant's commands (one screen); or, with ``admin``, the organisers'."""
    if found is not None:
        return say(f"`{found.usage}`: {found.summary}")
    known = [c for c in registry.commands() if not c.hidden]
    if admin:
        text = "**For program admins**\n" + _lines([c for c in known if c.admin])
        return Reply(message=Message(summary="Tandem help for admins", blocks=(Section(text=Text.of(text)),)))
    text = (
        "**Tandem helps you meet people: mentoring and coffee chats.**\n"
        + _lines([c for c in known if not c.admin])
        + "\n\nRunning a program? `help admin` lists the organiser commands."
    )
    return Reply(message=Message(summary="Tandem help", blocks=(Section(text=Text.of(text)),)))


@command("help", "help [command] | help admin", "Show what I can do.")
async def help_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    wanted = " ".join(cmd.args).lower()
    if wanted in ("admin", "admins"):
        return help_reply(admin=True)
    if wanted:
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
