"""The `tandem` command line: demo, chat, playground, simulate, serve, doctor, db upgrade, match, export, import, packages.

Exit codes: 0 done, 1 something went wrong while running (unreachable database, bad setting, failed step),
2 the command line itself is wrong (unknown option, bad value). Heavy imports stay inside the commands, so
`tandem --help` answers at once.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from tandem.match_cli import match as match_command

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Tandem: mentoring programs and coffee chats inside Slack and Microsoft Teams.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
program_app = typer.Typer(
    no_args_is_help=True, help="Programs, from the command line (also: `program create` in chat)."
)
app.add_typer(program_app, name="program")

err = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")


def _run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, imported on first use: `tandem match` and `--help` never need an event loop."""
    import asyncio

    return asyncio.run(main)


RUNTIME = 1  # the command ran and something went wrong
USAGE = 2  # the command line is wrong


def fail(message: str, code: int = RUNTIME) -> None:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    err.print(f"tandem: {message}", markup=False)
    raise typer.Exit(code)


def usage(message: str) -> None:
    fail(message, USAGE)


def _show_version(value: bool) -> None:
    if value:
        from tandem.version import version

        print(f"tandem {version()}")
        raise typer.Exit(0)


@app.callback()
def root(
    show_version: bool = typer.Option(
        False, "--version", help="Show the version and exit.", is_eager=True, callback=_show_version
    ),
) -> None:
    """Tandem: mentoring programs and coffee chats inside Slack and Microsoft Teams."""


def _settings():  # noqa: ANN202
    from tandem.settings import SettingsError, load_settings  # pydantic and SQLAlchemy: only when needed

    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"bad setting {exc}")


def _check_content() -> None:
    """The content library loads, or the command stops before doing anything (one problem per line)."""
    from bot.content import ContentError, load_library

    try:
        load_library()
    except ContentError as exc:
        fail(f"the content library has problems:\n{exc}")


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
    from storage.urls import DatabaseUrlError, normalize_database_url

    if not 2 <= participants <= 2000:
        usage(f"--participants must be between 2 and 2000 (got {participants})")
    if not 1 <= weeks <= 52:
        usage(f"--weeks must be between 1 and 52 (got {weeks})")
    if kind not in ("mentoring", "peer"):
        usage(f"--kind must be mentoring or peer (got {kind})")
    if group_size is not None and not 2 <= group_size <= 8:
        usage(f"--group-size must be between 2 and 8 (got {group_size})")
    if kind == "mentoring" and group_size not in (None, 2):
        usage("--group-size is for peer programs: mentoring is always one mentor and one mentee")
    if db is not None:
        try:
            normalize_database_url(db)
        except DatabaseUrlError as exc:
            usage(f"--db: {exc}")
    _check_content()
    _run_demo(participants, weeks, seed, db, quiet, kind, group_size or 2)


def _run_demo(participants: int, weeks: int, seed: int, db: str | None, quiet: bool, kind: str, size: int) -> None:
    """Run the simulation; a step that failed (logged as an error) makes the whole demo fail (exit 1)."""
    from storage.database import DatabaseUnavailable
    from tandem.demo import DemoOptions, run_demo

    console = Console(highlight=False)
    status = err.status("Starting the demo…") if quiet and err.is_terminal else None
    options = DemoOptions(
        participants=participants,
        weeks=weeks,
        seed=seed,
        db_url=db,
        console=None if quiet else console,
        kind=kind,
        group_size=size,
        progress=(lambda text: status.update(text)) if status is not None else None,
    )
    try:
        if status is not None:
            status.start()
        result = _run(run_demo(options))
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    finally:
        if status is not None:
            status.stop()
    if result.failures:
        fail(f"{result.failures} step(s) failed during the demo (see above); the results are incomplete")
    if result.rounds == 0:
        fail("the demo ran no rounds: nobody was matched")
    if quiet:
        console.print(f"{result.rounds} rounds, {result.matches} matches, {result.messages} messages delivered")


def _check_session_options(people: int, kind: str, db: str | None) -> None:
    """The options `chat` and `playground` share: a bad one is a usage error (exit 2) before anything starts."""
    from storage.urls import DatabaseUrlError, normalize_database_url

    if not 2 <= people <= 50:
        usage(f"--people must be between 2 and 50 (got {people})")
    if kind not in ("mentoring", "peer"):
        usage(f"--kind must be mentoring or peer (got {kind})")
    if db is not None:
        try:
            normalize_database_url(db)
        except DatabaseUrlError as exc:
            usage(f"--db: {exc}")


@app.command()
def chat(
    people: int = typer.Option(6, "--people", help="You and your simulated colleagues (2–50)."),
    kind: str = typer.Option("peer", "--kind", help="peer (coffee chats) or mentoring."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same colleagues and answers."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: a throwaway SQLite file)."),
) -> None:
    """Talk to the bot in this terminal as one of a few simulated colleagues (no Slack or Teams needed)."""
    _check_session_options(people, kind, db)
    _check_content()
    from storage.database import DatabaseUnavailable
    from tandem.chat import ChatOptions, run_chat

    try:
        _run(run_chat(ChatOptions(people=people, kind=kind, seed=seed, db_url=db), Console(highlight=False)))
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C while the bot was busy: leave quietly
        raise typer.Exit(0) from None


@app.command()
def playground(
    people: int = typer.Option(6, "--people", help="Colleagues in the program's channel (2–50)."),
    panes: int = typer.Option(3, "--panes", help="How many of them you play in the browser; the rest are simulated."),
    kind: str = typer.Option("peer", "--kind", help="peer (coffee chats) or mentoring."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same colleagues and answers."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: a throwaway SQLite file)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback unless --allow-remote)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0: any free port)."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Listen on a non-loopback address: anyone who reaches it acts as anyone."
    ),
) -> None:
    """Several people's chats side by side in your browser, against the real core (no Slack or Teams needed)."""
    from tandem.playground.server import is_loopback

    _check_session_options(people, kind, db)
    if not 1 <= panes <= min(people, 8):
        usage(f"--panes must be between 1 and {min(people, 8)} (got {panes})")
    if not is_loopback(host) and not allow_remote:
        usage(
            f"--host {host} is not a loopback address: the playground has no login and lets anyone act as anyone; "
            "add --allow-remote if you really mean it"
        )
    if not is_loopback(host):
        typer.echo(f"WARNING: the playground listens on {host}: anyone who can reach it acts as anyone.", err=True)
    _check_content()
    import asyncio

    from storage.database import DatabaseUnavailable
    from tandem.playground.server import PlaygroundOptions, serve_playground

    options = PlaygroundOptions(people=people, panes=panes, kind=kind, seed=seed, db_url=db)

    def ready(url: str) -> None:
        typer.echo(f"Playground on {url} (Ctrl-C stops it; nothing talks to Slack or Teams).")

    try:
        asyncio.run(serve_playground(options, host, port, ready))
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def simulate(
    roster: Path = typer.Option(..., "--roster", help="The participants CSV you would import (same columns)."),
    weeks: int = typer.Option(12, "--weeks", help="How many weeks to simulate (1–52)."),
    kind: str = typer.Option("peer", "--kind", help="peer (coffee chats) or mentoring."),
    out: Path = typer.Option(Path("report"), "--out", help="Folder for the report (created if missing)."),
    reply_rate: float = typer.Option(0.85, "--reply-rate", help="How often people answer surveys (0–1)."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same run."),
) -> None:
    """Dry-run a real roster before launch: who is matched, who is left out, what stats will say."""
    if not 1 <= weeks <= 52:
        usage(f"--weeks must be between 1 and 52 (got {weeks})")
    if kind not in ("mentoring", "peer"):
        usage(f"--kind must be mentoring or peer (got {kind})")
    if not 0 <= reply_rate <= 1:
        usage(f"--reply-rate must be between 0 and 1 (got {reply_rate})")
    if not roster.is_file():
        usage(f"--roster: {roster}: no such file")
    if out.exists() and not out.is_dir():
        usage(f"--out: {out} exists and is not a folder")
    try:
        text = roster.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        usage(f"{roster.name}: not a UTF-8 text file (save it as CSV UTF-8)")
        return
    _check_content()
    _run_simulate(roster, text, weeks, kind, out, reply_rate, seed)


def _run_simulate(roster: Path, text: str, weeks: int, kind: str, out: Path, reply_rate: float, seed: int) -> None:
    from tandem import simulate_report
    from tandem.simulate import SimulateOptions, run_simulation

    options = SimulateOptions(roster=roster, weeks=weeks, kind=kind, reply_rate=reply_rate, seed=seed)
    with err.status(f"Simulating {weeks} weeks of {roster.name}…") if err.is_terminal else contextlib.nullcontext():
        run = _run(run_simulation(options, text))
    if run.problems:
        for problem in run.problems:
            err.print(f"tandem: {roster.name} {problem}", markup=False)
        usage(f"{roster.name}: {len(run.problems)} problem(s); nothing was simulated.")
    if run.failures:
        fail(f"{run.failures} step(s) failed during the simulation; the report would be incomplete")
    report = simulate_report.build(run)
    try:
        written = simulate_report.write(run, report, out)
    except OSError as exc:
        fail(f"--out: cannot write to {out}: {exc.strerror or exc}")
        return
    last = run.checkpoints[-1] if run.checkpoints else None
    summary = f"{len(run.people)} people, {len(report.matches)} matches"
    if last is not None:
        summary += f" in {last.rounds} rounds, {last.met} met"
    summary += f", {len(report.left_out)} never matched, {len(report.unbooked)} chats never booked."
    Console(highlight=False).print(f"{summary} Report: {out / 'report.html'} ({len(written)} files).")


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host", help="Overrides TANDEM_HOST."),
    port: int | None = typer.Option(None, "--port", help="Overrides TANDEM_PORT."),
    migrate: bool = typer.Option(
        True, "--migrate/--no-migrate", help="Upgrade the database schema at start (under a lock on PostgreSQL)."
    ),
) -> None:
    """Run the bot: Slack and Teams endpoints, the program scheduler and the sender."""
    from storage.database import DatabaseUnavailable, one_line
    from tandem.logs import configure_logging

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    configure_logging(settings.log_level, settings.log_format)
    _check_content()
    try:
        _run(_serve(settings, migrate))
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    except Exception as exc:  # anything else that stops the server: one line and exit 1, not a traceback
        fail(f"stopped: {one_line(exc)}")


async def _serve(settings, migrate: bool) -> None:  # noqa: ANN001
    from storage.database import DatabaseUnavailable, check_connection, current_revision, head_revision, open_database
    from storage.database import upgrade as upgrade_schema
    from tandem.server import build_core
    from tandem.server import serve as run_server

    db = open_database(settings.database_url)
    try:
        await check_connection(db)
        if migrate:
            await upgrade_schema(db)
        elif (revision := await current_revision(db)) != head_revision():
            raise DatabaseUnavailable(
                f"the database is at revision {revision}, this release needs {head_revision()}: run `tandem db upgrade`"
            )
        await run_server(build_core(db, settings), settings)
    finally:
        await db.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (one server at a time on PostgreSQL; `serve` does it too unless --no-migrate)."""
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
        revision = _run(main())
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    Console().print(f"Database is at revision {revision}.")


@app.command()
def doctor() -> None:
    """Check settings, database, content, Slack and Teams: one line each; exit 1 if anything is wrong."""
    from tandem.doctor import run_checks

    settings = _settings()
    out = Console(highlight=False, soft_wrap=True)
    with err.status("Checking…") if err.is_terminal else contextlib.nullcontext():
        findings = _run(run_checks(settings))
    for finding in findings:
        out.print(finding.line(), markup=False)
    problems = [f for f in findings if f.status == "problem"]
    if problems:
        fail(f"{len(problems)} problem(s) found")
    from tandem.version import version

    out.print(f"All good: Tandem {version()} is ready to serve.")


@app.command("slack-manifest")
def slack_manifest(
    socket_mode: bool = typer.Option(False, "--socket-mode", help="The Socket Mode manifest (no public URL)."),
    host: str | None = typer.Option(None, "--host", help="Public host name to fill in for YOUR-TANDEM-HOST."),
) -> None:
    """Print the Slack app manifest to paste at api.slack.com/apps (the scopes and events Tandem needs)."""
    from importlib import resources

    name = "slack-socket-mode.yaml" if socket_mode else "slack.yaml"
    text = (resources.files("adapters.slack") / "manifest" / name).read_text(encoding="utf-8")
    if host:
        from adapters.teams.package import PackageError, check_host

        try:
            text = text.replace("YOUR-TANDEM-HOST", check_host(host))
        except PackageError as exc:
            usage(str(exc))
    print(text, end="")


@app.command("content-copy")
def content_copy(
    target: Path = typer.Argument(..., help="New folder to copy the shipped prompts, icebreakers and surveys to."),
) -> None:
    """Copy the shipped content library to a folder you edit; point TANDEM_PROMPTS_DIR at it."""
    import shutil

    from bot.content import default_root

    if target.exists():
        usage(f"{target} already exists: pick a new folder, so nothing of yours is overwritten")
    try:
        shutil.copytree(default_root(), target, ignore=shutil.ignore_patterns("__pycache__"))
    except OSError as exc:
        fail(f"cannot copy to {target}: {exc.strerror or exc}")
    Console(highlight=False).print(f"Copied the content library to {target}. Set TANDEM_PROMPTS_DIR={target.resolve()}")


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
        changed = _run(main())
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
        usage(f"--db: {exc}")
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
        usage(f"--out: {out} exists and is not a folder")
    try:
        written = _run(run_export(_database_url(db), program, out))
    except AdminCliError as exc:
        fail(str(exc), exc.exit_code)
        return
    Console(highlight=False).print(f"Wrote {len(written)} files to {out}: {', '.join(p.name for p in written)}")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV of participants (email or platform_user_id, role, ...)."),
    program: str = typer.Option(..., "--program", help="Program name, channel or id."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: TANDEM_DATABASE_URL)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace what people entered in their own profile (kept by default)."
    ),
) -> None:
    """Add participants from a CSV file, all or nothing; they are invited or told, never silently enrolled."""
    from tandem.admin_cli import AdminCliError, run_import

    if not file.is_file():
        usage(f"{file}: no such file")
    url = _database_url(db)
    try:
        # with a platform token configured, e-mails resolve through the platform's directory too
        with err.status(f"Importing {file.name}…") if err.is_terminal else contextlib.nullcontext():
            result = _run(run_import(url, program, file, _settings(), overwrite=overwrite))
    except AdminCliError as exc:
        fail(str(exc), exc.exit_code)
        return
    if not result.ok:
        for problem in result.problems:
            err.print(f"tandem: {file.name} {problem}", markup=False)
        usage(f"{file.name}: {result.summary()}")
    Console(highlight=False).print(f"{file.name}: {result.summary()} Messages go out when the bot runs.")


@program_app.command("create")
def program_create(
    platform: str = typer.Option(..., "--platform", help="slack or teams."),
    workspace: str = typer.Option(..., "--workspace", help="Slack team id (T…) or Teams tenant id."),
    channel: str = typer.Option(..., "--channel", help="The program's channel id (Slack C…/G…, Teams 19:…)."),
    name: str | None = typer.Option(None, "--name", help="Shown in every message (default: from kind and channel)."),
    kind: str = typer.Option("peer", "--kind", help="peer (coffee chats) or mentoring."),
    cadence: str | None = typer.Option(None, "--cadence", help="weekly, biweekly or monthly."),
    weekday: str | None = typer.Option(None, "--weekday", help="Day of the intros, e.g. monday."),
    time: str | None = typer.Option(None, "--time", help="Time of the intros, HH:MM in the program's zone."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA zone (default: TANDEM_DEFAULT_TIMEZONE)."),
    group_size: int | None = typer.Option(None, "--group-size", help="People per peer group (2–8)."),
    enrolment: str | None = typer.Option(None, "--enrolment", help="opt_in (ask first) or opt_out (tell, offer exit)."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: TANDEM_DATABASE_URL)."),
) -> None:
    """Create a program on a channel, e.g. before `tandem import` on a fresh database."""
    from tandem.admin_cli import AdminCliError, run_program_create

    if platform not in ("slack", "teams"):
        usage(f"--platform must be slack or teams (got {platform})")
    given = {
        "channel": channel,
        "name": name,
        "kind": kind,
        "cadence": cadence,
        "weekday": weekday,
        "time": time,
        "timezone": timezone,
        "group_size": None if group_size is None else str(group_size),
        "enrolment": enrolment,
    }
    values = {key: value for key, value in given.items() if value is not None}
    default_tz = _settings().default_timezone
    try:
        program = _run(run_program_create(_database_url(db), platform, workspace, values, default_tz))
    except AdminCliError as exc:
        fail(str(exc), exc.exit_code)
        return
    Console(highlight=False).print(
        f"Created '{program.name}' ({program.kind}) in #{program.channel_id}. Add people with "
        f"`tandem import FILE --program {program.channel_id}`, or they join in the channel."
    )


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
        usage(str(exc))
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
        if type(exc).__name__ == "NoArgsIsHelpError":
            # building the error already printed the help in Typer's rich mode; plain Click returns it
            text = exc.format_message()
            if text.strip():
                print(text)
            sys.exit(0)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        err.print(f"tandem: {exc.format_message()}{where}", markup=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
