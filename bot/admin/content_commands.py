"""Admin commands for the program's own content and survey results.

Where an item applies: a leading ``#channel`` (or program name after ``#``) names the program; without it the
program of the channel the command is typed in; for icebreakers typed outside a program channel, every
program in the workspace (workspace admins only). Program creators manage their own program's content.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.admin.survey_reports import report_lines, survey_report, surveys_with_instances
from bot.chat.context import Ctx, say, say_lines
from bot.chat.errors import CommandError
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import command
from bot.content import IcebreakerCategory, load_library
from bot.engagement.custom_content import (
    ICEBREAKER,
    KINDS,
    MAX_TEXT,
    PROMPT,
    QUESTION,
    describe,
    forget,
    icebreaker_twin,
)
from bot.engagement.survey_ids import PULSE
from bot.kernel.events import Response
from bot.programs.membership import program_for_channel, programs_in
from storage.tables import CustomContent, Program


def _split_program(cmd: ParsedCommand) -> tuple[str | None, list[str]]:
    """A leading channel (or '#name') names the program; the rest is the item's text."""
    args = cmd.args
    if not args:
        return None, args
    channel = cmd.channel(args[0])
    if channel is not None:
        return channel.channel_id, args[1:]
    if args[0].startswith("#") and len(args[0]) > 1:
        return args[0][1:], args[1:]
    return None, args


async def _program(ctx: Ctx, ref: str | None, *, required: bool = True) -> Program | None:
    if ref is None and not required:
        return (
            await program_for_channel(ctx.session, ctx.workspace.id, ctx.place.channel_id)
            if ctx.place.channel_id
            else None
        )
    return await ctx.program(ref)


_CATEGORIES = [c.value for c in IcebreakerCategory if c is not IcebreakerCategory.THIS_OR_THAT]


def _category(words: list[str]) -> tuple[str, list[str]]:
    """The category the question starts with (``[career]`` or ``career``), and the question's words.

    A bracketed word that is no category is refused; a plain word that is none belongs to the question.
    """
    if words and words[0].startswith("[") and words[0].endswith("]"):
        wanted = words[0][1:-1].lower().replace("-", "_")
        if wanted not in _CATEGORIES:
            raise CommandError(f"“{wanted}” isn't a category. Use one of: {', '.join(_CATEGORIES)}.")
        return wanted, words[1:]
    if len(words) > 1 and _bare_category(words[0]) in _CATEGORIES:
        return _bare_category(words[0]), words[1:]
    return IcebreakerCategory.FUN.value, words


def _bare_category(word: str) -> str:
    """A category typed as a plain word (``fun``, ``work-style:``): lower case, as in the usage.

    "Fun fact about you?" starts with a capital, so it stays a question.
    """
    word = word.rstrip(":")
    return word.replace("-", "_") if word == word.lower() else ""


def _check_text(text: str) -> str | None:
    if not text:
        return "Please add the question itself."
    if len(text) > MAX_TEXT:
        return f"Please keep it under {MAX_TEXT} characters (this one has {len(text)})."
    return None


async def _store(ctx: Ctx, program: Program | None, kind: str, payload: dict) -> CustomContent:
    row = CustomContent(
        workspace_id=ctx.workspace.id or 0,
        program_id=program.id if program else None,
        kind=kind,
        payload=payload,
        created_by_user_id=ctx.user.id,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    forget(ctx.session)
    await ctx.audit("content_add", program, content_id=row.id, content_kind=kind, payload=payload)
    return row


@command(
    "icebreaker add",
    "icebreaker add [#program] [category] <question>",
    "Add your own icebreaker (categories: fun, work_style, career, culture).",
    admin=True,
)
async def _icebreaker_add(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ref, words = _split_program(cmd)
    program = await _program(ctx, ref, required=False)
    hint = "" if program else "\nTo add one to your own program, name it: `icebreaker add #channel <question>`."
    ctx.require_admin(program, hint=hint)
    category, words = _category(words)
    text = " ".join(words).strip()
    problem = _check_text(text)
    if problem:
        return say(f"{problem}\nUsage: `{cmd.command.usage if cmd.command else ''}`")
    twin = await icebreaker_twin(ctx.session, ctx.workspace.id or 0, program.id if program else None, text)
    if twin is not None:
        return say(f"That question is already in the rotation ({twin}), so I didn't add it again.")
    row = await _store(ctx, program, ICEBREAKER, {"text": text, "category": category})
    where = program.name if program else "every program in this workspace"
    return say(
        f"Added icebreaker #{row.id} for {where}. It joins the rotation and won't repeat until "
        "every question has been asked."
    )


@command(
    "prompt add",
    "prompt add [#program] week <n> <question>",
    "Add a conversation prompt for week n of the program's track.",
    admin=True,
)
async def _prompt_add(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ref, words = _split_program(cmd)
    program = await _program(ctx, ref)
    assert program is not None
    if len(words) < 3 or words[0].lower() != "week" or not words[1].isdigit() or not 1 <= int(words[1]) <= 52:
        return say("Say which week and the question, e.g. `prompt add week 3 What surprised you this week?`")
    week, text = int(words[1]), " ".join(words[2:]).strip()
    problem = _check_text(text)
    if problem:
        return say(problem)
    row = await _store(ctx, program, PROMPT, {"week": week, "question": text})
    return say(
        f"Added prompt #{row.id}: pairs in {program.name} get it in week {week} of their track, "
        "together with the library's prompt for that week."
    )


@command(
    "question add",
    "question add [#program] [survey] [rating] <question>",
    "Add a free-text (or 1-5 rating) question to a survey; pulse unless you name one.",
    admin=True,
)
async def _question_add(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ref, words = _split_program(cmd)
    program = await _program(ctx, ref)
    assert program is not None
    survey, kind = PULSE, "text"
    if words and words[0].lower() in load_library().surveys:
        survey, words = words[0].lower(), words[1:]
    if len(words) > 1 and words[0].lower() == "rating":
        kind, words = "rating", words[1:]
    text = " ".join(words).strip()
    problem = _check_text(text)
    if problem:
        return say(f"{problem}\nUsage: `{cmd.command.usage if cmd.command else ''}`")
    row = await _store(ctx, program, QUESTION, {"text": text, "kind": kind, "survey": survey})
    scale = " (1-5 rating)" if kind == "rating" else " (free text, optional)"
    return say(
        f"Added question #{row.id}{scale} to the {survey} survey of {program.name}. Surveys sent from now "
        "on include it."
    )


async def _visible_rows(ctx: Ctx, program: Program | None) -> tuple[list[CustomContent], dict[int, str]]:
    programs = await programs_in(ctx.session, ctx.workspace.id)
    names = {p.id or 0: p.name for p in programs}
    mine = {p.id for p in programs if ctx.is_admin(p)}
    rows = (
        await ctx.session.exec(
            select(CustomContent)
            .where(CustomContent.workspace_id == ctx.workspace.id, col(CustomContent.kind).in_(KINDS))
            .order_by(col(CustomContent.id))
        )
    ).all()
    shown = [
        r
        for r in rows
        if (r.program_id is None or r.program_id in mine) and (program is None or r.program_id in (None, program.id))
    ]
    return shown, names


@command(
    "content list", "content list [#program]", "List the prompts, icebreakers and questions admins added.", admin=True
)
async def _content_list(ctx: Ctx, cmd: ParsedCommand) -> Response:
    ref, _ = _split_program(cmd)
    program = await _program(ctx, ref) if ref else None
    if program is None:
        await ctx.require_admin_of_some()  # a creator lists the items of their own programs
    rows, names = await _visible_rows(ctx, program)
    if not rows:
        return say("No custom content yet. Add some with `icebreaker add`, `prompt add` or `question add`.")
    return say_lines("Custom content", [describe(r, names) for r in rows] + ["Remove one with `content remove <id>`."])


@command("content remove", "content remove <id>", "Remove an item you added (id from `content list`).", admin=True)
async def _content_remove(ctx: Ctx, cmd: ParsedCommand) -> Response:
    raw = cmd.args[0].lstrip("#") if cmd.args else ""
    row = await ctx.session.get(CustomContent, int(raw)) if raw.isdigit() else None
    if row is None or row.workspace_id != ctx.workspace.id or row.kind not in KINDS:
        await ctx.require_admin_of_some()
        return say("I can't find that item. `content list` shows the ids.")
    program = await ctx.session.get(Program, row.program_id) if row.program_id else None
    ctx.require_admin(program)
    await ctx.audit("content_remove", program, content_id=row.id, content_kind=row.kind, payload=dict(row.payload))
    await ctx.session.delete(row)
    forget(ctx.session)
    return say(f"Removed #{raw}. Answers already given to it stay in the database but no longer show in reports.")


@command(
    "survey results",
    "survey results [program] [survey]",
    "Survey results; fewer than 3 answers show as 'not enough answers'.",
    admin=True,
)
async def _survey_results(ctx: Ctx, cmd: ParsedCommand) -> Response:
    words = cmd.words
    survey_id = words.pop().lower() if words and words[-1].lower() in load_library().surveys else None
    program = await ctx.program(" ".join(words).lstrip("#") or None)
    await ctx.audit("survey_results", program, survey=survey_id)
    wanted = [survey_id] if survey_id else await surveys_with_instances(ctx.session, program)
    if not wanted:
        return say(f"No surveys have been sent in {program.name} yet.")
    lines: list[str] = []
    for definition_id in wanted:
        lines.extend(report_lines(await survey_report(ctx.session, program, definition_id)))
        lines.append("")
    return say_lines(f"Survey results for {program.name}", lines[:-1])
