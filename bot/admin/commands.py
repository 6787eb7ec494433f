"""Admin insight commands: stats with a chart, at-risk pairs, export/import, announcements, audit.

All are admin commands: the registry makes sure the program each one resolves is administered by the
person before it reads or changes anything, and every action that changes something or lets data leave the
bot is written to the audit log.
"""

from __future__ import annotations

import base64

from sqlalchemy import func
from sqlmodel import col, or_, select

from bot.admin.charts import render_chart
from bot.admin.csv_import import IMPORT_COLUMNS, import_participants
from bot.admin.export import attachments, export_program
from bot.admin.risk import digest_message, find_at_risk
from bot.admin.stats import avg, goals_line, pct, program_stats
from bot.chat import grammar
from bot.chat.context import Ctx, say, say_lines
from bot.chat.errors import REFUSAL, CommandError
from bot.chat.grammar import ParsedCommand
from bot.chat.lookup import names, slug
from bot.chat.registry import command
from bot.delivery.outbox import Outgoing, enqueue, to_channel, to_user
from bot.kernel.events import FileUploadedEvent, Reply, Response
from bot.kernel.messages import FileAttachment, Header, Message, Section, Text, text_message
from bot.kernel.timeutil import parse_pause, show
from bot.programs.channel_sync import sync_progress
from bot.programs.membership import leave, membership, pause, programs_in
from bot.programs.people import find_user
from storage.enums import EndReason, MembershipStatus
from storage.tables import AuditEntry, Program, User

AUDIT_LINES = 25


def _ref(words: list[str]) -> str | None:
    return " ".join(words) or None


async def _program(ctx: Ctx, words: list[str]) -> Program:
    return await ctx.program(_ref(words))


async def _target(ctx: Ctx, cmd: ParsedCommand) -> tuple[User | None, list[str]]:
    """The person a command is about (a mention, or @name), and the words left after it."""
    rest = cmd.words
    if cmd.mentions:
        return await find_user(ctx.session, ctx.workspace.id, cmd.mentions[0].user_id), rest
    named = next((w for w in rest if w.startswith("@") and len(w) > 1), None)
    if named is None:
        return None, rest
    rest.remove(named)
    key = named[1:]
    candidates = (
        await ctx.session.exec(
            select(User).where(
                User.workspace_id == ctx.workspace.id,
                or_(User.platform_user_id == key, func.lower(User.display_name) == key.lower()),
            )
        )
    ).all()
    found = next((u for u in candidates if u.platform_user_id == key), None) or next(iter(candidates), None)
    return found, rest


def _tell(ctx: Ctx, program: Program, user: User, step: str, text: str) -> Outgoing:
    return Outgoing(
        key=f"program:{program.id}:{step}:{user.id}:{ctx.now:%Y%m%d%H%M%S}",
        step=step,
        target=to_user(user.platform_user_id),
        message=text_message(text),
        program_id=program.id,
    )


# --- stats ---------------------------------------------------------------------------------------------


@command("stats", "stats [program]", "Participation, meeting rate, pulse and goals by round, with a chart.", admin=True)
async def _stats(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await _program(ctx, cmd.words)
    await ctx.audit("stats", program)  # reading figures about people is an admin action too
    s = await program_stats(ctx.session, program, ctx.now)
    o = s.overall()
    lines = [
        f"Participants: {s.active} active, {s.paused} paused, {s.waitlisted} waitlisted "
        f"({s.invited} invited, {s.left} left)",
        f"Rounds: {len(s.rounds)} · matches: {o.matches} · met: {o.met}",
        f"Meeting rate (met of those asked): {pct(o.meeting_rate)} · survey response rate: "
        f"{pct(o.response_rate)} · average pulse: {avg(o.average_pulse)}",
        goals_line(o),
    ]
    progress = await sync_progress(ctx.session, program.id)
    if progress is not None and progress.recent(ctx.now):
        lines.append(f"People in the channel: {progress.line()}")
    per_round = [
        f"Round {r.number}: {r.matches} matches, {r.met} met, meeting rate {pct(r.meeting_rate)}, "
        f"responses {pct(r.response_rate)}, pulse {avg(r.average_pulse)}"
        + (f", goals {r.goals_done} of {r.goals} done" if r.goals else "")
        for r in s.rounds
    ]
    chart = await render_chart(s)
    image = base64.b64encode(chart.png).decode("ascii")
    blocks: list = [Header(text=f"📊 {program.name}"), Section(text=Text.of("\n".join(lines)))]
    if per_round:
        blocks.append(Section(text=Text.of("**By round**\n" + "\n".join(per_round))))
    return Reply(
        message=Message(
            summary=f"Stats for {program.name}",
            blocks=tuple(blocks),
            files=(
                FileAttachment(
                    filename=f"{slug(program.name) or 'program'}-stats.png",
                    mime_type="image/png",
                    content_b64=image,
                    title=f"{program.name}: meeting rate and pulse by round, with goals done",
                ),
            ),
        )
    )


@command("risk", "risk [program]", "Pairs that may need a hand (also sent weekly).", admin=True)
async def _risk(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await _program(ctx, cmd.words)
    items = await find_at_risk(ctx.session, program, ctx.now)
    await ctx.audit("risk", program, pairs=len(items))
    return Reply(message=digest_message(program, items, []))


# --- export / import -------------------------------------------------------------------------------------


@command(
    "export",
    "export [program]",
    "CSV files of participants, matches, meetings, goals, agreements and surveys (sent to you in a DM).",
    admin=True,
)
async def _export(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await _program(ctx, cmd.words)
    files = await export_program(ctx.session, program)
    message = Message(
        summary=f"Export of {program.name}",
        blocks=(
            Section(
                text=Text.of(
                    f"📦 Export of **{program.name}**: {', '.join(files)}. survey_answers.csv holds the named answers "
                    "(people were told the organisers see them, with their name); anonymous answers are only "
                    "included as totals."
                )
            ),
        ),
        files=attachments(program, files),
    )
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            Outgoing(
                key=f"program:{program.id}:export:{ctx.user.id}:{ctx.now:%Y%m%d%H%M%S}",
                step="export",
                target=to_user(ctx.user.platform_user_id),
                message=message,
                program_id=program.id,
            )
        ],
        ctx.now,
    )
    await ctx.audit("export", program, files=sorted(files))
    return say(f"I've sent you the {len(files)} CSV files of {program.name} in a direct message.")


OVERWRITE = "--overwrite"
IMPORT_HELP = (
    "Send me the CSV file in a direct message with the text `import {program}`. Columns: "
    + ", ".join(IMPORT_COLUMNS)
    + " (e-mail or platform_user_id, and role, are required; lists are "
    "separated by ';'). Nothing is imported until every row is fine, and nobody is enrolled without "
    "being asked or told. What people entered in their own profile is kept; to replace it, send the file "
    "with `import {program} --overwrite`."
)


@command("import", "import [program] [--overwrite]", "Add participants from a CSV file you send me.", admin=True)
async def _import(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await _program(ctx, _without_overwrite(cmd.words))
    return say(IMPORT_HELP.format(program=program.name))


def _without_overwrite(words: list[str]) -> list[str]:
    """The words naming the program, without the ``--overwrite`` flag."""
    return [w for w in words if w.lower() != OVERWRITE]


async def on_file_uploaded(ctx: Ctx, event: FileUploadedEvent) -> Response:
    """A file sent to the bot: with ``import [program]`` (or a bare .csv) it is a participant import."""
    parsed = grammar.parse(event.text) if event.text.strip() else None
    if parsed is not None and (parsed.command is None or parsed.command.name != "import"):
        return say("I only know what to do with participant CSV files: send one with the text `import [program]`.")
    if parsed is None and not event.filename.lower().endswith(".csv"):
        return say("Send a .csv file with the text `import [program]` to add participants.")
    words = parsed.words if parsed else []
    try:
        program = await _program(ctx, _without_overwrite(words))
    except CommandError as exc:
        return say(str(exc))
    if not ctx.is_admin(program):
        return say(REFUSAL)
    try:
        text = event.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return say(f"{event.filename} isn't a UTF-8 text file; save it as “CSV UTF-8” and send it again.")
    result = await import_participants(
        ctx.core,
        ctx.session,
        program,
        text,
        ctx.user,
        filename=event.filename,
        overwrite=words != _without_overwrite(words),
    )
    if not result.ok:
        shown = [f"• {p}" for p in result.problems[:40]]
        if len(result.problems) > 40:
            shown.append(f"… and {len(result.problems) - 40} more")
        return say_lines(f"{event.filename}: {result.summary()}", shown)
    return say(f"{program.name}: {result.summary()}")


# --- announce / remove / pause ---------------------------------------------------------------------------


async def _split_program(ctx: Ctx, words: list[str]) -> tuple[Program, list[str]]:
    """Which program an announcement is for, and its text.

    ``announce lunch club: Pizza!`` always names the program. Without the colon, leading words naming a
    program count only outside a program's channel: in #coffee, ``announce Coffee is back`` is all text.
    """
    programs = await programs_in(ctx.session, ctx.workspace.id)

    def named(text: str) -> Program | None:
        key = slug(text.lstrip("#"))
        return next((p for p in programs if key and key in names(p)), None)

    joined = " ".join(words)
    head, colon, tail = joined.partition(":")
    explicit = named(head) if colon and tail.strip() else None
    if explicit is not None:
        return explicit, tail.split()
    in_program_channel = any(p.channel_id == ctx.place.channel_id for p in programs)
    if not in_program_channel:
        for cut in range(min(len(words) - 1, 6), 0, -1):
            hit = named(" ".join(words[:cut]))
            if hit is not None:
                return hit, words[cut:]
    return await _program(ctx, []), words


@command(
    "announce",
    "announce [program] text",
    "Post an announcement in the program's channel (`announce lunch club: text` names it exactly).",
    admin=True,
)
async def _announce(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program, words = await _split_program(ctx, cmd.words)
    ctx.require_admin(program)
    if not words:
        return say("What should I announce? `announce [program] text`")
    body = " ".join(words)
    message = Message(
        summary=f"📣 {program.name}: {body[:80]}", blocks=(Section(text=Text.of(f"📣 **{program.name}**\n{body}")),)
    )
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            Outgoing(
                key=f"program:{program.id}:announce:{ctx.user.id}:{ctx.now:%Y%m%d%H%M%S}",
                step="announce",
                target=to_channel(program.channel_id),
                message=message,
                program_id=program.id,
            )
        ],
        ctx.now,
    )
    await ctx.audit("announce", program, text=body)
    return say(f"Posting your announcement in the channel of {program.name}.")


@command("remove", "remove @person [program]", "Take someone out of a program.", admin=True)
async def _remove(ctx: Ctx, cmd: ParsedCommand) -> Response:
    user, rest = await _target(ctx, cmd)
    program = await _program(ctx, rest)
    if user is None:
        return say("Who should I remove? `remove @person [program]`")
    if not await leave(ctx.session, program, user, ctx.now, EndReason.REMOVED):
        return say(f"{user.display_name} isn't in {program.name}.")
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            _tell(
                ctx,
                program,
                user,
                "removed",
                f"An organiser of **{program.name}** has taken you out of the program, so "
                "you won't get new matches there. Questions? Ask them directly.",
            )
        ],
        ctx.now,
    )
    await ctx.audit("remove", program, user=user.platform_user_id, name=user.display_name)
    return say(f"Removed {user.display_name} from {program.name}; they've been told.")


@command("pause @person", "pause @person until 2026-12-24 [program]", "Pause someone's matches.", admin=True)
async def _pause(ctx: Ctx, cmd: ParsedCommand) -> Response:
    """``pause @person until DATE [program]``: the admin version of ``pause 2w`` (see bot/programs)."""
    user, rest = await _target(ctx, cmd)
    words = rest[2:] if rest[:1] and rest[0].lower() == "until" else rest[1:]
    spec = rest[: len(rest) - len(words)]
    program = await _program(ctx, words)
    if user is None or not spec:
        return say("Usage: `pause @person until 2026-12-24 [program]`")
    member = await membership(ctx.session, program.id, user.id)
    if member is None or member.status != MembershipStatus.ACTIVE.value:
        return say(f"{user.display_name} isn't in {program.name}.")
    until = parse_pause(" ".join(spec), ctx.now, user.timezone)
    await pause(ctx.session, user, until, program)
    await enqueue(
        ctx.session,
        ctx.workspace.id or 0,
        [
            _tell(
                ctx,
                program,
                user,
                "admin_pause",
                f"An organiser of **{program.name}** has paused your matches until "
                f"{show(until, user.timezone)}. `resume` any time to come back sooner.",
            )
        ],
        ctx.now,
    )
    await ctx.audit("pause", program, user=user.platform_user_id, name=user.display_name, until=until.isoformat())
    return say(
        f"Paused {user.display_name} in {program.name} until {show(until, ctx.user.timezone)}; they've been told."
    )


# --- audit -----------------------------------------------------------------------------------------------


def _details(details: dict) -> str:
    text = ", ".join(f"{k}={v}" for k, v in details.items())
    return text if len(text) <= 120 else text[:117] + "…"


def _who(entry: AuditEntry, names: dict[int | None, str]) -> str:
    if entry.actor_user_id:
        return names.get(entry.actor_user_id, f"user {entry.actor_user_id}")
    return "command line" if entry.details.get("via") == "command line" else "Tandem (automatic)"


@command("audit", "audit [program]", "Who did what, when: the admin action log.", admin=True)
async def _audit(ctx: Ctx, cmd: ParsedCommand) -> Response:
    program = await _program(ctx, cmd.words)
    entries = (
        await ctx.session.exec(
            select(AuditEntry)
            .where(AuditEntry.workspace_id == ctx.workspace.id, AuditEntry.program_id == program.id)
            .order_by(col(AuditEntry.id).desc())
            .limit(AUDIT_LINES)
        )
    ).all()
    actor_ids = {e.actor_user_id for e in entries if e.actor_user_id}
    names = (
        {u.id: u.display_name for u in (await ctx.session.exec(select(User).where(col(User.id).in_(actor_ids)))).all()}
        if actor_ids
        else {}
    )
    lines = [
        f"• {show(e.at, ctx.user.timezone) if e.at else '?'} · {_who(e, names)} · **{e.action}**"
        + (f" · {_details(e.details)}" if e.details else "")
        for e in entries
    ]
    return say_lines(f"Audit log of {program.name} (latest {AUDIT_LINES})", lines or ["Nothing recorded yet."])
