"""The participant's membership commands and buttons: join, leave, profile, pause, resume, avoid.

Registered at import (``bot.app.features`` imports this module once).
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.chat.context import Ctx, say
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import NoValue, command, on_click, on_submit
from bot.kernel.events import FormErrors, FormSubmittedEvent, OpenForm, Reply, Response
from bot.kernel.messages import Actions, Message, Section, Text
from bot.kernel.timeutil import parse_pause, show
from bot.programs.buttons import JOIN, LEAVE, PROFILE_OPEN, RESUME, ProgramRef
from bot.programs.forms import PROFILE, apply_profile, profile_form
from bot.programs.membership import add_avoid, join, leave, membership, pause, resume
from bot.programs.people import find_user
from bot.programs.voice import preview
from storage.enums import MembershipStatus
from storage.tables import Program, User

RESUMED = "Welcome back! You're in the next round again."
NOT_PAUSED = "You weren't paused."


def program_ref(cmd: ParsedCommand) -> str | None:
    """The words after a command that name a program (``leave lunch club``), or None for 'the obvious one'."""
    return " ".join(cmd.words) or None


@command("join", "join [program] [as mentor|mentee]", "Join a program (you'll be matched from the next round).")
async def join_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    args = [a.lower() for a in cmd.words]
    role = None
    if "as" in args:
        at = args.index("as")
        if at + 1 >= len(args):
            return say("Say which role: `join as mentor` or `join as mentee`.")
        role = args[at + 1]
        args = args[:at] + args[at + 2 :]
    program = await ctx.program(" ".join(args) or None)
    member, created = await join(ctx.session, program, ctx.user, ctx.now, role)
    if role and created and "role" not in member.self_entered:  # their choice: an import keeps it
        member.self_entered = [*member.self_entered, "role"]
    if not created:
        return say(f"You're already in {program.name} (as {member.role}).")
    return say(
        f"Welcome to {program.name}! You're in as {member.role}. You'll get your first match in the next "
        f"round. Tell me about yourself with `profile` so I can match you well."
    )


@command("leave", "leave [program]", "Leave a program. No hard feelings.")
async def leave_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    if await leave(ctx.session, program, ctx.user, ctx.now):
        return say(f"You've left {program.name}. You won't be matched again. `join` any time to come back.")
    return say(f"You're not in {program.name}.")


@command(
    "profile",
    "profile [program] | profile show",
    "Edit your profile: about you, skills, interests, hours, quiet hours; `profile show`: what matches see.",
)
async def profile_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    member = await membership(ctx.session, program.id, ctx.user.id)
    if member is None or member.status != "active":
        return say(f"Join {program.name} first with `join`, then set up your profile.")
    return OpenForm(form=profile_form(program, ctx.user, member))


@command(
    "profile show", "profile show [program]", "See what your matches see about you.", hidden=True
)  # in profile's line
async def profile_show_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await ctx.program(program_ref(cmd))
    return Reply(message=preview(ctx.user, program.name))


@command("pause", "pause 2w | pause until 2026-12-24", "Take a break: no matches, prompts or surveys.")
async def pause_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
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


@command("resume", "resume", "End your pause now.")
async def resume_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    count = await resume(ctx.session, ctx.user, ctx.now)
    return say(RESUMED if count else NOT_PAUSED)


@command("avoid", "avoid @person", "Never be matched with someone. Private: only you can see this.")
async def avoid_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    other: User | None = None
    if cmd.mentions:
        other = await find_user(ctx.session, ctx.workspace.id, cmd.mentions[0].user_id)
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


# --- buttons ---------------------------------------------------------------------------------------------


async def _clicked_program(ctx: Ctx, value: ProgramRef) -> Program | None:
    """The program a membership button is about, if it still exists in this workspace."""
    program = await ctx.session.get(Program, value.program_id)
    return program if program is not None and program.workspace_id == ctx.workspace.id else None


@on_click(JOIN)
async def join_clicked(ctx: Ctx, value: ProgramRef) -> Response:
    """Join with one click, and offer the profile right away (matching works better with one)."""
    program = await _clicked_program(ctx, value)
    if program is None:
        return say("That program no longer exists.")
    member, created = await join(ctx.session, program, ctx.user, ctx.now)
    text = (
        f"You're in {program.name} as {member.role}! Set up your `profile` so I can match you well."
        if created
        else f"You're already in {program.name}."
    )
    blocks = (
        Section(text=Text.of(text)),
        Actions(elements=(PROFILE_OPEN.button("Edit my profile", ProgramRef(program.id or 0)),)),
    )
    return Reply(message=Message(summary=text, blocks=blocks), replace_original=True)


@on_click(LEAVE)
async def leave_clicked(ctx: Ctx, value: ProgramRef) -> Response:
    program = await _clicked_program(ctx, value)
    if program is None:
        return say("That program no longer exists.")
    left = await leave(ctx.session, program, ctx.user, ctx.now)
    text = f"You've left {program.name}." if left else f"You're not in {program.name}."
    return Reply(message=Message(summary=text, blocks=(Section(text=Text.of(text)),)), replace_original=True)


@on_click(PROFILE_OPEN)
async def profile_clicked(ctx: Ctx, value: ProgramRef) -> Response:
    program = await _clicked_program(ctx, value)
    if program is None:
        return say("That program no longer exists.")
    member = await membership(ctx.session, program.id, ctx.user.id)
    if member is None or member.status != MembershipStatus.ACTIVE.value:
        return say(f"Join {program.name} first.")
    return OpenForm(form=profile_form(program, ctx.user, member))


@on_click(RESUME)
async def resume_clicked(ctx: Ctx, value: NoValue) -> Response:
    count = await resume(ctx.session, ctx.user, ctx.now)
    return say(RESUMED if count else NOT_PAUSED)


@on_submit(PROFILE)
async def profile_submitted(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """The profile form's state is the program id; field problems go back to the form, not a message."""
    program = await ctx.session.get(Program, int(event.state)) if event.state.isdigit() else None
    member = await membership(ctx.session, program.id, ctx.user.id) if program else None
    if program is None or member is None:
        return say("That program no longer exists or you're not in it.")
    errors = apply_profile(program, ctx.user, member, event.values)
    if errors:
        return FormErrors(errors=errors)
    lead = f"Saved your profile for {program.name}. It shapes your next match.\n"
    return Reply(message=preview(ctx.user, program.name, lead=lead))
