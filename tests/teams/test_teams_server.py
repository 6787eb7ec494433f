"""`tandem serve` wiring: the Teams endpoint is mounted from settings next to /healthz."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from adapters.teams.http import RUNTIME_KEY
from bot.core import Tandem
from storage.database import open_database, upgrade
from tandem.platforms import mount_platforms
from tandem.server import build_app
from tandem.settings import load_settings
from tests.teams.teams_harness import load


@pytest.mark.parametrize(
    ("env", "mounted"),
    [
        ({}, False),
        ({"MICROSOFT_APP_ID": "00000000-1111-2222-3333-444444444444", "MICROSOFT_APP_PASSWORD": "x"}, True),
        ({"TANDEM_TEAMS_ENABLED": "true"}, True),
        ({"MICROSOFT_APP_ID": "00000000-1111-2222-3333-444444444444", "TANDEM_TEAMS_ENABLED": "false"}, False),
    ],
)
def test_teams_is_mounted_only_when_configured(tmp_path, monkeypatch, env, mounted):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "TANDEM_TEAMS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    app = web.Application()
    core = Tandem(open_database(f"sqlite:///{tmp_path / 'x.db'}"))
    assert ("teams" in mount_platforms(app, core, settings)) is mounted
    assert ("teams" in core.ports) is mounted


async def test_served_app_answers_teams_and_health(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANDEM_TEAMS_ENABLED", "true")
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    db = open_database(f"sqlite:///{tmp_path / 'serve.db'}")
    await upgrade(db)
    app = build_app(Tandem(db), load_settings())
    assert app[RUNTIME_KEY].config.authenticated is False
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 200
            raw = load("message_personal")
            raw.pop("type")
            async with session.post(f"{base}/api/messages", json=raw) as response:
                assert response.status == 400
    finally:
        await runner.cleanup()
        await db.dispose()
