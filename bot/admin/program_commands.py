"""Admin commands that run programs: create, list and change them, preview and run a round, post an icebreaker.

Also the program form's submission (create and settings share one form). Registered at import.
"""

from __future__ import annotations

import dataclasses

from bot.admin.stats import program_stats
from bot.chat.context import Ctx, say, say_lines
from bot.chat.grammar import ParsedCommand
from bot.chat.lookup import live_programs
from bot.chat.registry import command, on_submit
from bot.engagement.icebreakers import post_icebreaker
from bot.kernel.events import FormErrors, FormSubmittedEvent, OpenForm, Response
from bot.kernel.timeutil import WEEKDAYS
from bot.programs.channel_sync import request_sync, sync_progress
from bot.programs.commands import program_ref
from bot.programs.forms import PROGRAM_CREATE, PROGRAM_SETTINGS, program_form
from bot.programs.membership import (
    MIN_SHARED_KEY,
    ProgramError,
    ProgramSpec,
    create_program,
    membership,
    parse_spec,
    program_for_channel,
)
from bot.programs.naming import channel_name, default_name
from bot.relationships.rounds import build_problem, next_round_number, pool_for, preview, run_round
from storage.enums import Enrolment, MembershipStatus, ProgramStatus
from storage.tables import Program

FORM_REFUSAL = "Sorry, only program admins can do that; nothing was changed."


@command("program create", "program create", "Start a program on a channel (opens a form).", admin=True)
async def program_create(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ctx.require_admin()  # a new program has no creator yet: workspace admins only
    return OpenForm(form=program_form(ctx.core.default_timezone, ctx.place.channel_id))


@command("program list", "program list", "List the programs: the ones you can join, or the ones you run.")
async def program_list(ctx: Ctx, cmd: ParsedCommand) -> Response:
    live = await live_programs(ctx.session, ctx.workspace.id)
    shown = [p for p in live if ctx.is_admin(p)]  # a program's creator sees their own programs
    if not shown:
        return await _joinable_list(ctx, live)
    lines = []
    for p in shown:
        s = await program_stats(ctx.session, p, ctx.now)
        lines.append(
            f"• **{p.name}** in #{p.channel_id}: {p.kind}, {p.cadence} on {WEEKDAYS[p.intro_weekday]}s "
            f"at {p.intro_time} ({p.timezone}), groups of {p.group_size}, {p.enrolment.replace('_', '-')}; "
            f"{s.active} active, {s.paused} paused, {len(s.rounds)} rounds"
        )
    return say_lines("Programs", lines)


async def _joinable_list(ctx: Ctx, live: list[Program]) -> Response:
    """What a participant may see: running programs, how to join, whether they are in. No channel ids (a
    private channel's id is not theirs to learn), no numbers about other people."""
    lines = []
    for p in live:
        if p.status != ProgramStatus.ACTIVE.value:
            continue
        mine = await membership(ctx.session, p.id, ctx.user.id)
        state = (
            f"you're in as {mine.role}" if mine and mine.status == MembershipStatus.ACTIVE.value else f"`join {p.name}`"
        )
        lines.append(f"• **{p.name}**: {p.kind}, {p.cadence}; {state}")
    if not lines:
        return say("There are no programs to join yet.")
    return say_lines("Programs you can join", lines)


@command("program settings", "program settings [program]", "Change a program's settings.", admin=True)
async def program_settings(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    return OpenForm(form=program_form(ctx.core.default_timezone, program=program))


@command(
    "program sync",
    "program sync [program]",
    "Reach the people already in the program's channel (invite, or enrol and tell); only new ones are reached.",
    admin=True,
)
async def program_sync(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    sync, new = await request_sync(ctx.session, program, ctx.user, ctx.now, "sync")
    if not new:
        progress = await sync_progress(ctx.session, program.id)
        return say(f"Already on it: {progress.line() if progress else 'starting'}. `status` shows how far it got.")
    await ctx.audit("program_sync", program, channel=program.channel_id)
    return say(
        f"Checking who is in the channel of {program.name} now. {_sync_promise(program)} `status` shows how far it got."
    )


def _sync_promise(program: Program) -> str:
    """What a sync will do, in the admin's words (the rule is in bot/programs/reach.py)."""
    if program.enrolment == Enrolment.OPT_OUT.value:
        return "Everyone in the channel is enrolled and told how to leave (anyone who left before is only invited)."
    return "Everyone in the channel gets an invitation (anyone already in, or already asked, is left alone)."


@command("match preview", "match preview [program]", "See who would be matched, without sending.", admin=True)
async def match_preview(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
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


@command("match now", "match now [program]", "Run a round now and send the intros.", admin=True)
async def match_now(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    await ctx.audit("match_now", program)
    program_id = program.id or 0
    ctx.later.append(lambda: run_round(ctx.core, program_id))
    return say(f"Matching a new round of {program.name} now; intros are on their way.")


@command("icebreaker now", "icebreaker now [program]", "Post an icebreaker question now.", admin=True)
async def icebreaker_now(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    await ctx.audit("icebreaker_now", program)
    await post_icebreaker(ctx.core, ctx.session, program, f"manual:{ctx.now:%Y%m%d%H%M%S}")
    return say(f"Posting an icebreaker in the channel of {program.name}.")


# --- the program form ------------------------------------------------------------------------------------


@on_submit(PROGRAM_CREATE, PROGRAM_SETTINGS)
async def program_submitted(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """Create a program, or save an existing one's settings (its id is the form's state)."""
    existing = None
    if event.form_id == PROGRAM_SETTINGS:
        existing = await ctx.session.get(Program, int(event.state)) if event.state.isdigit() else None
        if existing is None or existing.workspace_id != ctx.workspace.id:
            return say("That program no longer exists.")
    if not ctx.is_admin(existing):
        return say(FORM_REFUSAL)
    spec, errors = parse_spec(event.values, ctx.core.default_timezone)
    if errors or spec is None:
        return FormErrors(errors=errors)
    if existing is None:
        if not str(event.values.get("name") or "").strip():  # left blank: named after the channel, looked up once
            found = await channel_name(ctx.core, ctx.workspace, spec.channel_id)
            spec = dataclasses.replace(spec, name=default_name(spec.kind, found))
        return await _create(ctx, spec)
    return await _save_settings(ctx, existing, spec)


async def _create(ctx: Ctx, spec: ProgramSpec) -> Response:
    try:
        program = await create_program(ctx.session, ctx.workspace, ctx.user, spec, ctx.now)
    except ProgramError as exc:
        return FormErrors(errors={"channel": str(exc)})
    await ctx.audit("program_create", program, name=program.name, channel=program.channel_id)
    await request_sync(ctx.session, program, ctx.user, ctx.now, "created")
    return say(
        f"Created **{program.name}**. {_sync_promise(program)} People who join the channel later hear about "
        "it as they arrive. `status` shows how far it got; `match now` runs the first round whenever you're ready.",
        ephemeral=True,
    )


async def _save_settings(ctx: Ctx, existing: Program, spec: ProgramSpec) -> Response:
    other = await program_for_channel(ctx.session, ctx.workspace.id, spec.channel_id)
    if other is not None and other.id != existing.id:
        return FormErrors(errors={"channel": f"#{spec.channel_id} already runs '{other.name}'."})
    moved = existing.channel_id != spec.channel_id
    existing.name, existing.channel_id, existing.kind = spec.name, spec.channel_id, spec.kind
    existing.cadence, existing.intro_weekday, existing.intro_time = spec.cadence, spec.weekday, spec.time
    existing.timezone, existing.group_size, existing.enrolment = spec.timezone, spec.group_size, spec.enrolment
    existing.meeting_minutes, existing.reminder_minutes = spec.meeting_minutes, spec.reminder_minutes
    existing.track_weeks = spec.track_weeks  # live matches keep running to the new length
    existing.weekly_cap = spec.weekly_cap
    existing.holidays = list(spec.holidays)
    existing.weights = {**existing.weights, MIN_SHARED_KEY: spec.min_shared_hours}
    await ctx.audit("program_settings", existing, **{k: str(v) for k, v in spec.__dict__.items()})
    if moved:
        await request_sync(ctx.session, existing, ctx.user, ctx.now, "channel_changed")
        return say(f"Saved the settings of {existing.name}. {_sync_promise(existing)}")
    return say(f"Saved the settings of {existing.name}.")
