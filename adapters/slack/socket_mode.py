"""Socket Mode: Slack pushes the same payloads over a WebSocket, so no public URL is needed.

Used when ``SLACK_APP_TOKEN`` (xapp-…) is set. The bolt app and every listener are the same as over HTTP;
Slack doesn't sign Socket Mode payloads (the app token authenticates the connection instead).
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.slack.app import SlackAdapter

log = logging.getLogger("tandem.slack")


class SocketMode:
    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter
        self.handler: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        token = self.adapter.config.app_token
        if not token:
            return
        self.handler = AsyncSocketModeHandler(self.adapter.bolt, token)
        await self.handler.connect_async()
        log.info("slack: connected in Socket Mode")

    async def is_connected(self) -> bool:
        """The WebSocket is open and answering pings (what /metrics and /readyz report)."""
        if self.handler is None:
            return False
        try:
            return bool(await self.handler.client.is_connected())
        except Exception:  # a half-closed session: not connected
            return False

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()
            self.handler = None
