"""HTTP endpoints: ``POST /slack/events`` (events, slash commands, interactivity) and the OAuth install pages.

The signature is checked here, on the raw bytes, before anything is parsed: a request Slack didn't sign
(or signed more than 5 minutes ago) gets 401 and touches nothing. Bolt checks it again; that costs
microseconds and keeps the bolt app safe if it is ever mounted elsewhere.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.shape import problem
from adapters.slack.socket_mode import SocketMode
from bot.core import Tandem

log = logging.getLogger("tandem.slack")

SLACK_ADAPTER: web.AppKey[SlackAdapter] = web.AppKey("slack_adapter", SlackAdapter)
SLACK_SOCKET: web.AppKey[SocketMode] = web.AppKey("slack_socket", SocketMode)  # only in Socket Mode
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; anything bigger is not from Slack
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; anything else is refused before any arithmetic


def mount(app: web.Application, core: Tandem, config: SlackConfig) -> None:
    """Wire Slack into Tandem's aiohttp app and register the Slack port with the core."""
    adapter = SlackAdapter(core, config)
    core.register_port("slack", adapter.port)
    if config.admin_ids:
        extra = core.admins.extra_admins
        extra["slack"] = frozenset(extra.get("slack", frozenset()) | config.admin_ids)
    app[SLACK_ADAPTER] = adapter
    endpoints = SlackEndpoints(adapter)
    if config.signing_secret:
        app.router.add_post(EVENTS_PATH, endpoints.events)
    if config.oauth_enabled:
        app.router.add_get(INSTALL_PATH, endpoints.oauth)
        app.router.add_get(REDIRECT_PATH, endpoints.oauth)
    socket = SocketMode(adapter) if config.socket_mode else None
    if socket is not None:
        app[SLACK_SOCKET] = socket

    async def start(_: web.Application) -> None:
        if socket is not None:
            await socket.start()

    async def stop(_: web.Application) -> None:
        if socket is not None:
            await socket.stop()
        await adapter.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


class SlackEndpoints:
    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter
        secret = adapter.config.signing_secret
        self.verifier = SignatureVerifier(secret) if secret else None

    def _signed(self, body: bytes, request: web.Request) -> bool:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if self.verifier is None or not _TIMESTAMP.fullmatch(timestamp):
            return False
        try:
            return self.verifier.is_valid(
                body=body, timestamp=timestamp, signature=request.headers.get("X-Slack-Signature")
            )
        except (TypeError, ValueError, OverflowError):
            return False

    async def events(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        body = await request.read()
        if len(body) > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        if not self._signed(body, request):
            log.warning("slack: rejected a request with a missing, wrong or stale signature from %s", request.remote)
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_string,
                headers={k: [v] for k, v in request.headers.items()},
            )
        except Exception as exc:  # malformed JSON or form: nothing to process
            log.warning("slack: unreadable request body (%s: %s)", type(exc).__name__, exc)
            return web.json_response({"error": "malformed body"}, status=400)
        shape = problem(bolt_request.body)
        if shape is not None:
            log.warning("slack: refused a signed request that is not shaped like Slack's: %s (400)", shape)
            return web.json_response({"error": "malformed body"}, status=400)
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            log.info("slack: Slack retry #%s (%s)", retry, request.headers.get("X-Slack-Retry-Reason", "?"))
        try:
            bolt_response = await self.adapter.bolt.async_dispatch(bolt_request)
        except Exception:
            log.exception("slack: request failed")
            return web.json_response({"error": "internal"}, status=500)
        return await to_aiohttp_response(bolt_response)

    async def oauth(self, request: web.Request) -> web.StreamResponse:
        flow = self.adapter.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(
            body="", query=request.query_string, headers={k: [v] for k, v in request.headers.items()}
        )
        if request.path == flow.install_path:
            bolt_response = await flow.handle_installation(bolt_request)
        else:
            bolt_response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(bolt_response)
