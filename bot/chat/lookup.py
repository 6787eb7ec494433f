"""Which program a command means: named by the person, else the channel's, else their only one.

Pure storage queries, here in the framework so that every feature (and :class:`bot.chat.context.Ctx`)
resolves program names the same way without depending on the programs package.
"""

from __future__ import annotations

import re

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import CommandError
from storage.enums import ProgramStatus
from storage.tables import Membership, Program, User


def slug(text: str) -> str:
    """'Lunch Club!' → 'lunch-club': how program names, channels and typed references are compared."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def names(program: Program) -> tuple[str, ...]:
    """Every key a person may use to name this program: its id, its name and its channel, slugged."""
    return str(program.id), slug(program.name), slug(program.channel_id)


async def live_programs(session: AsyncSession, workspace_id: int | None) -> list[Program]:
    """The workspace's programs that are not archived, oldest first."""
    return list(
        (
            await session.exec(
                select(Program)
                .where(Program.workspace_id == workspace_id, Program.status != ProgramStatus.ARCHIVED.value)
                .order_by(col(Program.id))
            )
        ).all()
    )


async def find_program(
    session: AsyncSession, workspace_id: int | None, user: User | None, ref: str | None, channel_id: str | None = None
) -> Program:
    """The program a command means: named, or the channel's, or the person's only one."""
    programs = await live_programs(session, workspace_id)
    if not programs:
        raise CommandError("There are no programs yet. An admin can start one with `program create`.")
    if ref:
        key = slug(ref.lstrip("#"))
        for program in programs:
            if key in names(program):
                return program
        listed = ", ".join(f"'{p.name}'" for p in programs)
        raise CommandError(f"I can't find a program called '{ref}'. Programs here: {listed}.")
    if channel_id:
        for program in programs:
            if program.channel_id == channel_id:
                return program
    if len(programs) == 1:
        return programs[0]
    if user is not None:
        mine = [p for p in programs if await _is_member(session, p.id, user.id)]
        if len(mine) == 1:
            return mine[0]
    listed = ", ".join(f"'{p.name}'" for p in programs)
    raise CommandError(f"Which program? Add its name: {listed}.")


async def _is_member(session: AsyncSession, program_id: int | None, user_id: int | None) -> bool:
    """Any membership row at all (invited, active or left) makes a program 'one of mine'."""
    found = (
        await session.exec(select(Membership).where(Membership.program_id == program_id, Membership.user_id == user_id))
    ).first()
    return found is not None
