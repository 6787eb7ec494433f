"""`tandem doctor`: one line per check against the fake Slack Web API and a fake Microsoft login, exit 1 on trouble."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.slack.config import BOT_SCOPES
from tandem.doctor import Finding, run_checks
from tandem.settings import load_settings
from tests.cli.test_cli_demo import REPO, tandem
from tests.slack.fake_slack import FakeSlack

APP_ID = "00000000-0000-0000-0000-0000000000aa"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("TANDEM_", "SLACK_", "MICROSOFT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


@pytest.fixture
async def login() -> AsyncIterator[str]:
    """Microsoft's token endpoint: a token for the right secret, Azure's error answer for a wrong one."""

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        assert request.match_info["tenant"] == "botframework.com"
        assert form["scope"] == "https://api.botframework.com/.default"
        if form["client_id"] == APP_ID and form["client_secret"] == "right":
            return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi"})
        return web.json_response(
            {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1",
            },
            status=401,
        )

    app = web.Application()
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url(""))
    await server.close()


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


async def test_slack_scopes_granted_are_checked_against_the_manifest(tmp_path: Path) -> None:
    fake = await FakeSlack(granted_scopes=tuple(s for s in BOT_SCOPES if s != "groups:history")).start()
    try:
        settings = load_settings(
            TANDEM_DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}",
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            TANDEM_SLACK_API_URL=fake.api_url,
        )
        slack = by_name(await run_checks(settings))["slack"]
        assert slack.status == "problem" and "lacks groups:history" in slack.detail, slack
        fake.granted_scopes = BOT_SCOPES
        findings = by_name(await run_checks(settings))
        assert findings["slack"].status == "ok" and "Subarachnoid Workspace" in findings["slack"].detail
        assert findings["database"].status == "problem" and "tandem db upgrade" in findings["database"].detail
        assert not (tmp_path / "none.db").exists()  # checking never creates the database
        assert findings["content"].status == "ok" and findings["teams"].status == "skipped"
    finally:
        await fake.close()


async def test_token_shapes_are_checked_before_calling(tmp_path: Path) -> None:
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxp-user-token", SLACK_SIGNING_SECRET="s", SLACK_APP_TOKEN="xoxb-not-an-app-token"
    )
    findings = [f for f in await run_checks(settings) if f.name.startswith("slack")]
    assert [f.status for f in findings] == ["problem", "problem"]
    assert "xoxb-" in findings[0].detail and "xapp-" in findings[1].detail


async def test_teams_token_fetch(login: str) -> None:
    good = load_settings(MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="right", TANDEM_TEAMS_LOGIN_URL=login)
    assert by_name(await run_checks(good))["teams"].status == "ok"
    bad = good.model_copy(update={"microsoft_app_password": "wrong"})
    teams = by_name(await run_checks(bad))["teams"]
    assert teams.status == "problem" and teams.detail.endswith("AADSTS7000215: Invalid client secret provided.")


async def test_doctor_command_exits_1_on_a_problem_and_0_when_all_is_well(tmp_path: Path, login: str) -> None:
    env = {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "right", "TANDEM_TEAMS_LOGIN_URL": login}

    async def doctor() -> tuple[int, str, str]:  # a subprocess that does not block the fake login's loop
        full = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_"))}
        full.update(env, PYTHONPATH=str(REPO), COLUMNS="200")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tandem.cli", "doctor", cwd=tmp_path, env=full, stdout=-1, stderr=-1
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = await doctor()
    assert code == 1 and "✗ database:" in out and err.strip() == "tandem: 1 problem(s) found"
    assert tandem("db", "upgrade", cwd=tmp_path).returncode == 0
    code, out, err = await doctor()
    assert code == 0, out + err
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "✓ settings",
        "✓ database",
        "✓ content",
        "– slack",
        "✓ teams",
    ]
    assert lines[-1].startswith("All good") and "Traceback" not in err
