"""Web API clients, one per bot token, sharing one HTTP connection pool and the SDK's retry handlers.

Two flavours per token:
* ``interactive`` (replies, modals, Home tab, users.info): the SDK retries 429s in place, honouring
  Retry-After, because a person is waiting and there is nowhere else to keep the message.
* ``outbound`` (deliveries from the core's outbox): a 429 is *not* slept on here; it becomes a retryable
  ``SendError`` carrying Retry-After, and the durable outbox schedules that delivery no earlier than Slack
  asked, while the rest of the round keeps flowing.
Both retry 5xx and connection errors/timeouts with the SDK's exponential backoff.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.web.async_client import AsyncWebClient

from adapters.metrics import rate_limited
from adapters.slack.config import SlackConfig

TokenLookup = Callable[[str], Awaitable[str | None]]
TOKEN_CACHE_SECONDS = 60.0  # a reinstall's new token is picked up within a minute

CONNECTION_ERRORS: list[type[Exception]] = [
    aiohttp.ServerConnectionError,
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientOSError,
    aiohttp.ClientConnectorError,
    asyncio.TimeoutError,
]


class ProportionalJitter(Jitter):
    """Adds up to 100 % of the interval (the SDK's default adds up to a flat second, even to 10 ms waits)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1.0 + random.random())


class NoToken(LookupError):
    """Tandem has no bot token for this workspace (not installed, or uninstalled)."""


class CountRateLimits(AsyncRetryHandler):
    """First in the chain, never retries: counts every 429 for /metrics, retried by the SDK or not."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=sys.maxsize)

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:  # noqa: ANN001
        if response is not None and response.status_code == 429:
            rate_limited("slack", request.url.rstrip("/").rsplit("/", 1)[-1])
        return False


def retry_handlers(outbound: bool, backoff_factor: float = 0.5) -> list[AsyncRetryHandler]:
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor, jitter=ProportionalJitter())
    handlers: list[AsyncRetryHandler] = [
        CountRateLimits(),
        AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff, error_types=CONNECTION_ERRORS),
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
    ]
    if not outbound:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return handlers


class SlackClients:
    """Finds the right token for a workspace and hands out cached clients for it."""

    def __init__(self, config: SlackConfig, token_lookup: TokenLookup | None = None) -> None:
        self.config = config
        self.token_lookup = token_lookup
        self._clients: dict[tuple[str, bool], AsyncWebClient] = {}
        self._tokens: dict[str, tuple[float, str]] = {}  # OAuth: workspace → (valid until, token)
        self._session: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        """The one HTTP connection pool every Slack call shares."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.http_timeout),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    def for_token(self, token: str | None, *, outbound: bool = False) -> AsyncWebClient:
        key = (token or "", outbound)
        client = self._clients.get(key)
        if client is None:
            client = AsyncWebClient(
                token=token,
                base_url=self.config.base_url,
                timeout=self.config.http_timeout,  # type: ignore[arg-type]  # aiohttp takes seconds as float
                session=self.http(),
                retry_handlers=retry_handlers(outbound, self.config.retry_backoff),
            )
            self._clients[key] = client
        return client

    async def token_for(self, workspace_id: str) -> str:
        if self.token_lookup is not None:
            cached = self._tokens.get(workspace_id)
            if cached and cached[0] > time.monotonic():
                return cached[1]
            token = await self.token_lookup(workspace_id)
            if token:
                self._tokens[workspace_id] = (time.monotonic() + TOKEN_CACHE_SECONDS, token)
                return token
        if self.config.bot_token:
            return self.config.bot_token
        raise NoToken(f"no Slack bot token for workspace {workspace_id}")

    def forget_token(self, workspace_id: str) -> None:
        self._tokens.pop(workspace_id, None)

    async def for_workspace(self, workspace_id: str, *, outbound: bool = False) -> AsyncWebClient:
        return self.for_token(await self.token_for(workspace_id), outbound=outbound)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._clients.clear()
