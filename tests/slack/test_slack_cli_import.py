"""`tandem import` with a Slack token configured resolves e-mails through Slack (users.lookupByEmail) instead
of failing every line of a CSV of people the bot hasn't met yet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.kernel.clock import SimulatedClock
from storage.database import open_database, upgrade
from storage.enums import MembershipStatus
from storage.tables import Membership, User
from tandem.admin_cli import run_import
from tandem.settings import load_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_support import SECRET
from tests.slack.test_slack_channel_sync import serving
from tests.slack.test_slack_commands import create_program


async def test_cli_import_resolves_emails_through_slack(fake: FakeSlack, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = open_database(url)
    await upgrade(db)
    try:
        async with serving(db, fake, SimulatedClock(datetime.now(UTC)), "server") as h:
            program = await create_program(h, channel="C0LUNCH")
        fake.emails = {f"p{n}@example.com": f"U0LUNCH{n:02d}" for n in range(50)}
        csv = tmp_path / "people.csv"
        csv.write_text("email,role\n" + "".join(f"p{n}@example.com,peer\n" for n in range(50)), encoding="utf-8")
        settings = load_settings(
            SLACK_BOT_TOKEN="xoxb-cli", SLACK_SIGNING_SECRET=SECRET, TANDEM_SLACK_API_URL=fake.api_url
        )

        result = await run_import(url, program.name, csv, settings)

        assert result.ok and result.invited == 50, result.problems
        assert len(fake.called("users.lookupByEmail")) == 50
        async with db.session() as s:
            people = {u.platform_user_id: u for u in await rows_of(s, User)}
            members = [m for m in await rows_of(s, Membership) if m.program_id == program.id]
        assert people["U0LUNCH07"].email == "p7@example.com"
        assert len(members) == 50 and {m.status for m in members} == {MembershipStatus.INVITED.value}

        stranger = tmp_path / "stranger.csv"
        stranger.write_text("email,role\np7@example.com,peer\nnobody@example.com,peer\n", encoding="utf-8")
        again = await run_import(url, program.name, stranger, settings)  # p7 is known now: no call for them
        assert not again.ok and [str(p) for p in again.problems] == [
            "line 3, email: nobody with the e-mail 'nobody@example.com' in this workspace"
        ]
        assert len(fake.called("users.lookupByEmail")) == 51
    finally:
        await db.dispose()


async def rows_of(session, model):  # noqa: ANN001, ANN201
    from sqlmodel import select

    return list((await session.exec(select(model))).all())
