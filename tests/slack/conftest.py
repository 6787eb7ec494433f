"""Fixtures for the Slack adapter tests: a real database, the fake Slack Web API, and Tandem served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from storage.database import Database
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_harness import Harness, slack_config
from tests.support.fixtures import FIXTURES


@pytest.fixture
def conformance() -> Path:
    """The recorded payloads' folder (``tests/fixtures``); tests that read them ask for it by name."""
    return FIXTURES


@pytest.fixture
def database(db: Database) -> Database:
    """The project-wide ``db`` fixture: every test here runs on SQLite, and on PostgreSQL when configured."""
    return db


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


@pytest.fixture
async def harness(database: Database, fake: FakeSlack) -> AsyncIterator[Harness]:
    core = Tandem(database, pacing=False)  # real wall clock: quiet hours would make the test depend on the time of day
    app = web.Application()
    mount(app, core, slack_config(fake))
    server = TestServer(app, host="127.0.0.1")
    client = TestClient(server)
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    yield h
    await h.settle()
    await client.close()
