"""Fixtures for the Slack adapter tests: a real database, the fake Slack Web API, and Tandem served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from fake_slack import FakeSlack
from slack_support import SECRET, conformance_dir, interactive_request, json_request

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.http import SLACK_ADAPTER, mount
from adapters.slack.pacing import RateLimits
from bot.core import Tandem
from storage.database import Database


@pytest.fixture
def conformance() -> Any:
    base = conformance_dir()
    if base is None:
        pytest.skip("shared conformance payloads not found at <repo>/../shared/conformance")
    return base


@pytest.fixture
def database(db: Database) -> Database:
    """The project-wide ``db`` fixture: every test here runs on SQLite, and on PostgreSQL when configured."""
    return db


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


@dataclass
class Harness:
    client: TestClient
    core: Tandem
    fake: FakeSlack
    adapter: SlackAdapter

    async def post(self, body: bytes, headers: dict[str, str]) -> Any:
        return await self.client.post("/slack/events", data=body, headers=headers)

    async def event(self, payload: dict[str, Any], **headers: str) -> Any:
        body, signed = json_request(payload)
        return await self.post(body, {**signed, **headers})

    async def interact(self, payload: dict[str, Any]) -> Any:
        return await self.post(*interactive_request(payload))

    async def settle(self) -> None:
        """Wait for the work the listeners started after acking (not a sleep: an awaited condition)."""
        await self.adapter.background.drain()


def slack_config(fake: FakeSlack, **overrides: Any) -> SlackConfig:
    values: dict[str, Any] = dict(bot_token="xoxb-test-token", signing_secret=SECRET, api_url=fake.api_url,
                                  http_timeout=2.0, limits=RateLimits(enabled=False))
    values.update(overrides)
    return SlackConfig(**values)


@pytest.fixture
async def harness(database: Database, fake: FakeSlack) -> AsyncIterator[Harness]:
    core = Tandem(database)
    app = web.Application()
    mount(app, core, slack_config(fake))
    server = TestServer(app, host="127.0.0.1")
    client = TestClient(server)
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=app[SLACK_ADAPTER])
    yield h
    await h.settle()
    await client.close()
