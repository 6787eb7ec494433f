"""Running the shared command grammar: each command is one small function returning a response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel import col, select

from bot.admin.stats import program_stats
from bot.app.status import status_lines
from bot.chat import grammar
from bot.chat.context import REFUSAL, Ctx, say, say_lines
from bot.delivery.report import admin_delivery_lines
from bot.engagement.icebreakers import post_icebreaker
from bot.kernel.events import OpenForm, Reply, Response
from bot.kernel.messages import Message, Section, Text
from bot.kernel.timeutil import WEEKDAYS, BadTime, parse_pause, show
from bot.programs.forms import profile_form, program_form
from bot.programs.membership import (
    ProgramError,
    add_avoid,
    join,
    leave,
    membership,
    memberships_of,
    pause,
    programs_in,
    resume,
)
from bot.programs.people import find_user
from bot.relationships.rounds import build_problem, next_round_number, pool_for, preview, run_round
from storage.tables import User

Handler = Callable[[Ctx, grammar.ParsedCommand], Awaitable[Response]]
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return wrap


async def run_command(ctx: Ctx, text: str) -> Response:
    parsed = grammar.parse(text)
    if parsed.spec is None:
        return help_reply(parsed.suggestion, unknown=parsed.raw)
    handler = HANDLERS.get(parsed.spec.name)
    if handler is None:
        return help_reply(parsed.spec)
    try:
        return await handler(ctx, parsed)
    except (ProgramError, BadTime) as exc:
        return say(f"{exc}\nUsage: `{parsed.spec.usage}`")


def help_reply(spec: grammar.CommandSpec | None = None, *, unknown: str | None = None) -> Reply:
    if spec is not None:
        lead = f"I didn't understand “{unknown}”. Did you mean this?\n" if unknown else ""
        return say(f"{lead}`{spec.usage}`: {spec.summary}")
    lines = [f"`{c.usage}`: {c.summary}" for c in grammar.COMMANDS if not c.admin]
    admin = [f"`{c.usage}`: {c.summary}" for c in grammar.COMMANDS if c.admin]
    text = (
        "**Tandem helps you meet people: mentoring and coffee chats.**\n"
        + "\n".join(lines)
        + "\n\n**For program admins**\n"
        + "\n".join(admin)
    )
    if unknown:
        text = f"I didn't understand “{unknown}”. Here's what I can do:\n\n" + text
    return Reply(message=Message(summary="Tandem help", blocks=(Section(text=Text.of(text)),)))


@command("help")
async def _help(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    if cmd.args:
        wanted = " ".join(cmd.args).lower()
        spec = next((c for c in grammar.COMMANDS if c.name == wanted), None) or grammar.closest(wanted)
        if spec is not None:
            return help_reply(spec)
    return help_reply()


def _program_ref(cmd: grammar.ParsedCommand, stop: tuple[str, ...] = ()) -> str | None:
    words = [w for w in cmd.args if w.lower() not in stop]
    return " ".join(words) or None


@command("join")
async def _join(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    args = [a.lower() for a in cmd.args]
    role = None
    if "as" in args:
        at = args.index("as")
        if at + 1 >= len(args):
            return say("Say which role: `join as mentor` or `join as mentee`.")
        role = args[at + 1]
        args = args[:at] + args[at + 2 :]
    program = await ctx.program(" ".join(args) or None)
    member, created = await join(ctx.session, program, ctx.user, ctx.now, role)
    if not created:
        return say(f"You're already in {program.name} (as {member.role}).")
    return say(
        f"Welcome to {program.name}! You're in as {member.role}. You'll get your first match in the next "
        f"round. Tell me about yourself with `profile` so I can match you well."
    )


@command("leave")
async def _leave(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    if await leave(ctx.session, program, ctx.user, ctx.now):
        return say(f"You've left {program.name}. You won't be matched again. `join` any time to come back.")
    return say(f"You're not in {program.name}.")


@command("profile")
async def _profile(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    member = await membership(ctx.session, program.id, ctx.user.id)
    if member is None or member.status != "active":
        return say(f"Join {program.name} first with `join`, then set up your profile.")
    return OpenForm(form=profile_form(program, ctx.user, member))


@command("pause")
async def _pause(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    if not cmd.args:
        return say("How long? For example `pause 2w` or `pause until 2026-12-24`.")
    until = parse_pause(" ".join(cmd.args), ctx.now, ctx.user.timezone)
    count = await pause(ctx.session, ctx.user, until)
    if not count:
        return say("You're not in any program yet, so there's nothing to pause.")
    return say(
        f"Paused until {show(until, ctx.user.timezone)}. No matches, prompts or surveys until then; "
        "I'll say hello when you're back. `resume` ends it early."
    )


@command("resume")
async def _resume(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    count = await resume(ctx.session, ctx.user, ctx.now)
    return say("Welcome back! You're in the next round again." if count else "You weren't paused.")


@command("status")
async def _status(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    lines = await status_lines(ctx.core, ctx.session, ctx.user)
    if ctx.is_admin():
        programs = await programs_in(ctx.session, ctx.workspace.id)
        for program in programs:
            s = await program_stats(ctx.session, program, ctx.now)
            lines.append(
                f"🛠 {program.name}: {s.active} active, {s.paused} paused · deliveries {s.deliveries_sent} "
                f"sent, {s.deliveries_pending} waiting, {s.deliveries_failed} failed"
            )
        lines += await admin_delivery_lines(ctx.session, programs)
    return say_lines("Your Tandem status", lines)


@command("avoid")
async def _avoid(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    other: User | None = None
    if cmd.mentions:
        other = await find_user(ctx.session, ctx.workspace.id, cmd.mentions[0])
    elif cmd.args:
        name = " ".join(cmd.args).lstrip("@").lower()
        other = (
            await ctx.session.exec(
                select(User).where(User.workspace_id == ctx.workspace.id).where(col(User.display_name).ilike(name))
            )
        ).first()
    if other is None:
        return say("Who should I avoid? Mention them: `avoid @person`. (Only you will ever see this.)")
    added = await add_avoid(ctx.session, ctx.user, other, ctx.now)
    note = "Done" if added else "Already noted"
    return say(f"{note}: I won't match you with {other.display_name}. This stays private.")


@command("program create")
async def _program_create(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    if not ctx.is_admin():
        return say(REFUSAL)
    return OpenForm(form=program_form(ctx.core.default_timezone, ctx.place.channel_id))


@command("program list")
async def _program_list(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    programs = await programs_in(ctx.session, ctx.workspace.id)
    if not programs:
        return say("No programs yet. Start one with `program create`.")
    lines = []
    for p in programs:
        s = await program_stats(ctx.session, p, ctx.now)
        lines.append(
            f"• **{p.name}** in #{p.channel_id}: {p.kind}, {p.cadence} on {WEEKDAYS[p.intro_weekday]}s "
            f"at {p.intro_time} ({p.timezone}), groups of {p.group_size}, {p.enrolment.replace('_', '-')}; "
            f"{s.active} active, {s.paused} paused, {len(s.rounds)} rounds"
        )
    return say_lines("Programs", lines)


@command("program settings")
async def _program_settings(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    if not ctx.is_admin(program):
        return say(REFUSAL)
    return OpenForm(form=program_form(ctx.core.default_timezone, program=program))


@command("match preview")
async def _match_preview(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    if not ctx.is_admin(program):
        return say(REFUSAL)
    number = await next_round_number(ctx.session, program.id)
    pool = await pool_for(ctx.session, program, ctx.now)
    problem = await build_problem(ctx.session, program, number, ctx.now, pool)
    result = preview(problem)
    names = {p["id"]: p["name"] for p in problem["participants"]}
    lines = [
        f"• {' + '.join(names.get(m, m) for m in g['members'])}: {'; '.join(g['reasons']) or 'no reasons'}"
        for g in result["groups"]
    ]
    lines += [f"• {names.get(u['id'], u['id'])} unmatched: {u['reason']}" for u in result["unmatched"]]
    if not lines:
        lines = ["Nobody is available to match yet."]
    return say_lines(f"Preview of round {number} of {program.name} (nothing sent)", lines)


@command("match now")
async def _match_now(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    if not ctx.is_admin(program):
        return say(REFUSAL)
    await ctx.audit("match_now", program)
    program_id = program.id or 0
    ctx.later.append(lambda: run_round(ctx.core, program_id))
    return say(f"Matching a new round of {program.name} now; intros are on their way.")


@command("icebreaker now")
async def _icebreaker_now(ctx: Ctx, cmd: grammar.ParsedCommand) -> Response:
    program = await ctx.program(_program_ref(cmd))
    if not ctx.is_admin(program):
        return say(REFUSAL)
    await ctx.audit("icebreaker_now", program)
    await post_icebreaker(ctx.core, ctx.session, program, f"manual:{ctx.now:%Y%m%d%H%M%S}")
    return say(f"Posting an icebreaker in #{program.channel_id}.")


async def my_programs(ctx: Ctx) -> list[int]:
    return [m.program_id for m in await memberships_of(ctx.session, ctx.user.id)]


# Feature modules register their commands on import (kept last: they import from this module).
from bot.admin import content_commands  # noqa: E402,F401
