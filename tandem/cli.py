"""The `tandem` command line: demo, serve, db upgrade, match, export, import."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import typer
from rich.console import Console

from tandem.match_cli import match as match_command
from tandem.settings import SettingsError, load_settings

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Tandem: mentoring programs and coffee chats inside Slack and Microsoft Teams.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")

err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    err.print(f"tandem: {message}", markup=False)
    raise typer.Exit(code)


def _settings():  # noqa: ANN202
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"bad setting {exc}")


def _logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@app.command()
def demo(
    participants: int = typer.Option(24, "--participants", help="How many simulated people (2–2000)."),
    weeks: int = typer.Option(4, "--weeks", help="How many weeks to simulate (1–52)."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same transcript."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: a throwaway SQLite file)."),
    quiet: bool = typer.Option(False, "--quiet", help="Print only the final stats."),
    kind: str = typer.Option("mentoring", "--kind", help="mentoring (pairs on a track) or peer (groups per round)."),
    group_size: int | None = typer.Option(None, "--group-size", help="People per peer group (2–8; default 2)."),
) -> None:
    """Run a simulated mentoring or peer program end to end and print what everyone sees."""
    from storage.database import DatabaseUnavailable
    from storage.urls import DatabaseUrlError, normalize_database_url
    from tandem.demo import DemoOptions, run_demo

    if not 2 <= participants <= 2000:
        fail(f"--participants must be between 2 and 2000 (got {participants})")
    if not 1 <= weeks <= 52:
        fail(f"--weeks must be between 1 and 52 (got {weeks})")
    if kind not in ("mentoring", "peer"):
        fail(f"--kind must be mentoring or peer (got {kind})")
    if group_size is not None and not 2 <= group_size <= 8:
        fail(f"--group-size must be between 2 and 8 (got {group_size})")
    if kind == "mentoring" and group_size not in (None, 2):
        fail("--group-size is for peer programs: mentoring is always one mentor and one mentee")
    if db is not None:
        try:
            normalize_database_url(db)
        except DatabaseUrlError as exc:
            fail(f"--db: {exc}")
    console = Console(highlight=False)
    options = DemoOptions(
        participants=participants,
        weeks=weeks,
        seed=seed,
        db_url=db,
        console=None if quiet else console,
        kind=kind,
        group_size=group_size or 2,
    )
    try:
        result = asyncio.run(run_demo(options))
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    if quiet:
        console.print(f"{result.rounds} rounds, {result.matches} matches, {result.messages} messages delivered")


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host", help="Overrides TANDEM_HOST."),
    port: int | None = typer.Option(None, "--port", help="Overrides TANDEM_PORT."),
) -> None:
    """Run the bot: Slack and Teams endpoints, the program scheduler and the sender."""
    from storage.database import DatabaseUnavailable, check_connection, open_database, upgrade
    from tandem.server import build_core
    from tandem.server import serve as run_server

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    _logging(settings.log_level)

    async def main() -> None:
        db = open_database(settings.database_url)
        try:
            await check_connection(db)
            await upgrade(db)
            await run_server(build_core(db, settings), settings)
        finally:
            await db.dispose()

    try:
        asyncio.run(main())
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (also done by `serve` and `demo`)."""
    from storage.database import DatabaseUnavailable, check_connection, current_revision, open_database, upgrade

    settings = _settings()

    async def main() -> str | None:
        db = open_database(settings.database_url)
        try:
            await check_connection(db)
            await upgrade(db)
            return await current_revision(db)
        finally:
            await db.dispose()

    try:
        revision = asyncio.run(main())
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    Console().print(f"Database is at revision {revision}.")


@db_app.command("new-secret-key")
def db_new_secret_key() -> None:
    """Print a fresh key for TANDEM_SECRET_KEYS (OAuth bot tokens encrypted at rest)."""
    from storage.sealing import new_key

    print(new_key())


@db_app.command("rotate-secrets")
def db_rotate_secrets() -> None:
    """Re-encrypt every stored bot token with the newest key in TANDEM_SECRET_KEYS (plain ones too)."""
    from storage.database import DatabaseUnavailable, check_connection, open_database
    from storage.sealing import Sealer, SealError, reseal_installations

    settings = _settings()
    sealer = Sealer(settings.secret_keys.split(","))
    if not sealer.enabled:
        fail("TANDEM_SECRET_KEYS is not set: nothing to encrypt with (make a key with `tandem db new-secret-key`)")

    async def main() -> int:
        db = open_database(settings.database_url)
        try:
            await check_connection(db)
            return await reseal_installations(db, sealer)
        finally:
            await db.dispose()

    try:
        changed = asyncio.run(main())
    except (DatabaseUnavailable, SealError) as exc:
        fail(str(exc))
        return
    Console().print(f"Re-encrypted the tokens of {changed} installation(s) with the newest key.")


app.command("match", help="Preview a round from a file: groups, reasons and who stays unmatched.")(match_command)


def _database_url(db: str | None) -> str:
    """--db when given (checked), else the configured TANDEM_DATABASE_URL."""
    from storage.urls import DatabaseUrlError, normalize_database_url

    if db is None:
        return _settings().database_url
    try:
        normalize_database_url(db)
    except DatabaseUrlError as exc:
        fail(f"--db: {exc}")
    return db


@app.command("export")
def export_cmd(
    program: str = typer.Option(..., "--program", help="Program name, channel or id."),
    out: Path = typer.Option(..., "--out", help="Folder to write the CSV files to (created if missing)."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: TANDEM_DATABASE_URL)."),
) -> None:
    """Export a program's participants, matches, meetings and survey answers as CSV files."""
    from tandem.admin_cli import AdminCliError, run_export

    if out.exists() and not out.is_dir():
        fail(f"--out: {out} exists and is not a folder")
    try:
        written = asyncio.run(run_export(_database_url(db), program, out))
    except AdminCliError as exc:
        fail(str(exc))
        return
    Console(highlight=False).print(f"Wrote {len(written)} files to {out}: {', '.join(p.name for p in written)}")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV of participants (email or platform_user_id, role, ...)."),
    program: str = typer.Option(..., "--program", help="Program name, channel or id."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: TANDEM_DATABASE_URL)."),
) -> None:
    """Add participants from a CSV file, all or nothing; they are invited or told, never silently enrolled."""
    from tandem.admin_cli import AdminCliError, run_import

    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        result = asyncio.run(run_import(_database_url(db), program, file))
    except AdminCliError as exc:
        fail(str(exc))
        return
    if not result.ok:
        for problem in result.problems:
            err.print(f"tandem: {file.name} {problem}", markup=False)
        fail(f"{file.name}: {result.summary()}")
    Console(highlight=False).print(f"{file.name}: {result.summary()} Messages go out when the bot runs.")


@app.command("teams-package")
def teams_package(
    app_id: str = typer.Option(..., "--app-id", help="The bot's Microsoft App ID (a GUID)."),
    host: str = typer.Option(..., "--host", help="Public host name Tandem is served on, e.g. tandem.example.com."),
    out: Path = typer.Option(Path("tandem-teams.zip"), "--out", help="Zip file (or folder) to write."),
) -> None:
    """Build the Microsoft Teams app package (manifest + icons) to upload in Teams."""
    from adapters.teams.package import PackageError, build_package

    try:
        path = build_package(app_id, host, out)
    except PackageError as exc:
        fail(str(exc))
        return
    Console().print(f"Wrote {path}. Upload it in Teams: Apps → Manage your apps → Upload an app.")


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors (unknown option, bad value) become one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="tandem", standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Click's usage errors (vendored by Typer) carry format_message() and exit_code: duck-type them.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            sys.exit(0)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        err.print(f"tandem: {exc.format_message()}{where}", markup=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
