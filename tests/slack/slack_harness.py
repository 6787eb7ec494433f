"""The running-Tandem harness the Slack tests share (kept out of conftest.py, whose module name isn't unique)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.pacing import RateLimits
from bot.core import Tandem
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_support import SECRET, interactive_request, json_request


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
    values: dict[str, Any] = dict(
        bot_token="xoxb-test-token",
        signing_secret=SECRET,
        api_url=fake.api_url,
        http_timeout=2.0,
        limits=RateLimits(enabled=False),
    )
    values.update(overrides)
    return SlackConfig(**values)
