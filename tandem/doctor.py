"""`tandem doctor`: one line per check of what a running Tandem depends on; any problem means exit 1.

Checks, in order: the settings, the database (reachable, schema revision), the content library, Slack
(token shapes, ``auth.test`` and the scopes granted against the ones the manifest asks for, the Socket Mode
token) and Teams (app registration and a real token fetch). A platform that is not configured is skipped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tandem.settings import Settings

Status = Literal["ok", "problem", "skipped"]
MARKS = {"ok": "✓", "problem": "✗", "skipped": "–"}


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.detail}"


def ok(name: str, detail: str) -> Finding:
    return Finding(name, "ok", detail)


def problem(name: str, detail: str) -> Finding:
    return Finding(name, "problem", detail)


def skipped(name: str, detail: str) -> Finding:
    return Finding(name, "skipped", detail)


async def run_checks(settings: Settings) -> list[Finding]:
    """Every check, each bounded in time; a check never raises (its failure is its finding)."""
    from tandem.doctor_platforms import check_slack, check_teams

    findings = [ok("settings", f"read from the environment and .env (log format {settings.log_format})")]
    findings.append(await check_database(settings))
    findings.append(check_content())
    findings.extend(await check_slack(settings))
    findings.extend(await check_teams(settings))
    return findings


async def check_database(settings: Settings) -> Finding:
    from storage.database import (
        DatabaseUnavailable,
        check_connection,
        current_revision,
        head_revision,
        one_line,
        open_database,
    )

    try:
        db = open_database(settings.database_url)
    except DatabaseUnavailable as exc:
        return problem("database", str(exc))
    if _sqlite_file_missing(db):
        await db.dispose()  # a check must not create the file
        return problem("database", f"{db.describe()} does not exist yet: run `tandem db upgrade`")
    try:
        await check_connection(db)
        async with asyncio.timeout(15):
            revision = await current_revision(db)
    except DatabaseUnavailable as exc:
        return problem("database", str(exc))
    except Exception as exc:
        return problem("database", f"{db.describe()}: {one_line(exc)}")
    finally:
        await db.dispose()
    head = head_revision()
    where = db.describe()
    if revision == head:
        return ok("database", f"{where}, schema at revision {revision} (current)")
    if revision is None:
        return problem("database", f"{where} has no Tandem schema yet: run `tandem db upgrade`")
    return problem("database", f"{where} is at revision {revision}, this release needs {head}: run `tandem db upgrade`")


def _sqlite_file_missing(db) -> bool:  # noqa: ANN001
    name = db.url.database
    return db.is_sqlite and name not in (None, "", ":memory:") and not Path(name).expanduser().exists()


def check_content() -> Finding:
    from bot.content import ContentError, default_root, load_library

    root = default_root()
    try:
        library = load_library()
    except ContentError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        return problem("content", f"{root}: {first}")
    return ok(
        "content",
        f"{root}: {len(library.tracks)} tracks, {len(library.icebreakers)} icebreakers, {len(library.surveys)} surveys",
    )
