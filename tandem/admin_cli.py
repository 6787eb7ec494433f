"""The command-line side of exports and imports: open the database, find the program, call the core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.admin.csv_import import ImportResult, import_participants
from bot.admin.export import export_program, find_program_anywhere, write_export
from bot.core import Tandem
from bot.programs.channel_sync import request_sync
from bot.programs.membership import ProgramError, create_program, parse_spec
from bot.programs.people import ensure_workspace
from storage.database import DatabaseUnavailable, check_connection, open_database, upgrade
from storage.tables import AuditEntry, Program
from tandem.settings import Settings


class AdminCliError(Exception):
    """Bad input (exit 2) or an unreachable database or unwritable folder (exit 1); one line for the terminal."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _program_problem(exc: ProgramError) -> str:
    hint = "; create one with `tandem program create`" if str(exc).endswith("programs: none") else ""
    return f"--program: {exc}{hint}"


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


async def _open(url: str):  # noqa: ANN202
    db = open_database(url)
    try:
        await check_connection(db)
        await upgrade(db)
    except DatabaseUnavailable as exc:
        await db.dispose()
        raise AdminCliError(str(exc), exit_code=1) from None
    return db


async def run_export(url: str, ref: str, out: Path) -> list[Path]:
    db = await _open(url)
    try:
        async with db.session() as session:
            try:
                program = await find_program_anywhere(session, ref)
            except ProgramError as exc:
                raise AdminCliError(_program_problem(exc)) from None
            files = await export_program(session, program)
        try:
            return await write_export(out, files)
        except OSError as exc:
            raise AdminCliError(f"--out: cannot write to {out}: {exc.strerror or exc}", exit_code=1) from None
    finally:
        await db.dispose()


@asynccontextmanager
async def platform_ports(core: Tandem, settings: Settings | None) -> AsyncIterator[list[str]]:
    """The configured platforms' ports on ``core`` (no server, no socket started), so an import resolves
    e-mails through them (Slack users.lookupByEmail, Teams rosters); their connections close afterwards."""
    if settings is None:
        yield []
        return
    from aiohttp import web

    from tandem.platforms import mount_platforms

    app = web.Application()
    mounted = mount_platforms(app, core, settings)
    app.freeze()
    try:
        yield mounted
    finally:
        await app.cleanup()


async def run_import(
    url: str, ref: str, path: Path, settings: Settings | None = None, *, overwrite: bool = False
) -> ImportResult:
    try:
        text = await asyncio.to_thread(_read_text, path)
    except UnicodeDecodeError:
        raise AdminCliError(f"{path.name}: not a UTF-8 text file (save it as CSV UTF-8)") from None
    except OSError as exc:
        raise AdminCliError(f"{path}: {exc.strerror or exc}") from None
    db = await _open(url)
    try:
        core = Tandem(db)
        async with platform_ports(core, settings), db.transaction() as session:
            try:
                program = await find_program_anywhere(session, ref)
            except ProgramError as exc:
                raise AdminCliError(_program_problem(exc)) from None
            return await import_participants(
                core, session, program, text, None, filename=path.name, overwrite=overwrite
            )
    finally:
        await db.dispose()


async def run_program_create(
    url: str, platform: str, workspace: str, values: dict[str, str], default_tz: str = "UTC"
) -> Program:
    """Create a program as the chat form would, for a workspace that may not have sent an event yet."""
    spec, errors = parse_spec(values, default_tz)
    if errors or spec is None:
        field, problem = next(iter(errors.items()))
        raise AdminCliError(f"--{field.replace('_', '-')}: {problem}")
    db = await _open(url)
    try:
        now = datetime.now(UTC)
        async with db.transaction() as session:
            place = await ensure_workspace(session, platform, workspace, now)
            try:
                program = await create_program(session, place, None, spec, now)
            except ProgramError as exc:
                raise AdminCliError(f"--channel: {exc}") from None
            await request_sync(session, program, None, now, "created")  # the channel's people, once serving
            session.add(
                AuditEntry(
                    workspace_id=place.id or 0,
                    program_id=program.id,
                    action="program_create",
                    details={"name": program.name, "channel": program.channel_id, "via": "command line"},
                    at=now,
                )
            )
        return program
    finally:
        await db.dispose()
