"""``POST /api/messages``: where Teams (via the Bot Framework service) delivers activities.

Bad input is answered with the status the Bot Framework uses (415 wrong content type, 400 malformed or
unsigned card data, 401 missing/invalid JWT when an app id is set, 501 unhandled invoke), is logged in one
line, and is refused before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import AuthenticateRequestResult, AuthenticationConstants, ClaimsIdentity
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from adapters.bounds import BadJson, parse_json
from adapters.teams.auth import ChannelTokenValidator, KeysUnavailable, SigningKeys, Unauthorized
from adapters.teams.bot_handler import RAW_KEY, TeamsBot
from adapters.teams.cards import CardRenderer
from adapters.teams.config import TeamsConfig
from adapters.teams.port import TeamsPort
from adapters.teams.shape import problem as activity_problem
from adapters.teams.signing import CardSigner
from adapters.teams.translate import BadActivity, BadCardAction, actor_of, card_action_event, context_of
from bot.core import Tandem

log = logging.getLogger("tandem.teams")

ROUTE = "/api/messages"
_SHAPED_TYPES = frozenset({"message", "invoke", "conversationUpdate", "installationUpdate"})


@dataclass
class TeamsRuntime:
    """The adapter's live objects (tests and the server reach them through ``app[RUNTIME_KEY]``)."""

    config: TeamsConfig
    adapter: CloudAdapter
    bot: TeamsBot
    port: TeamsPort
    renderer: CardRenderer
    signer: CardSigner
    validator: ChannelTokenValidator | None  # None: no app id, unauthenticated local testing


RUNTIME_KEY = web.AppKey("tandem.teams", TeamsRuntime)


def build_runtime(core: Tandem, config: TeamsConfig, **port_options: Any) -> TeamsRuntime:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config.botbuilder_settings()))
    signer = CardSigner(config.app_password or config.app_id or "tandem-local-unauthenticated")
    renderer = CardRenderer(signer)
    bot = TeamsBot(core, config, renderer, signer)
    port = TeamsPort(adapter, config, core.db, renderer, core.clock, **port_options)
    validator = (
        ChannelTokenValidator(config.app_id, SigningKeys(config.openid_metadata_url)) if config.authenticated else None
    )
    return TeamsRuntime(
        config=config, adapter=adapter, bot=bot, port=port, renderer=renderer, signer=signer, validator=validator
    )


async def authenticate(runtime: TeamsRuntime, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
    """What botbuilder's ``authenticate_request`` returns, with the token checked by our async validator."""
    auth = runtime.adapter.bot_framework_authentication
    if runtime.validator is None:
        identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
        caller_id = None
    else:
        identity = await runtime.validator.identity(auth_header, activity.channel_id, activity.service_url)
        caller_id = CallerIdConstants.public_azure_channel
    result = AuthenticateRequestResult()
    result.claims_identity = identity
    result.audience = auth.get_originating_audience()
    result.caller_id = caller_id
    result.connector_factory = auth.create_connector_factory(identity)
    return result


def _card_error(status: int, code: str, message: str) -> web.Response:
    body = {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }
    return web.json_response(body, status=status)


def envelope_problem(raw: Any) -> web.Response | None:
    """What botbuilder itself checks before authenticating: one object with a type (and a service URL)."""
    if not isinstance(raw, dict):
        return web.json_response({"error": "the body must be one Activity object"}, status=400)
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        return web.json_response({"error": "activity without a type"}, status=400)
    service_url = raw.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return web.json_response({"error": "activity without a valid serviceUrl"}, status=400)
    return None


def shape_problem(raw: dict[str, Any], signer: CardSigner) -> web.Response | None:
    """After authentication: refuse what the turn could not act on; ``None`` means go ahead."""
    shape = activity_problem(raw)
    if shape is not None:
        return web.json_response({"error": f"malformed activity: {shape}"}, status=400)
    if raw["type"] not in _SHAPED_TYPES:
        return None
    try:
        ctx = context_of(raw)
    except BadActivity as exc:
        return web.json_response({"error": str(exc)}, status=400)
    if raw["type"] == "invoke" and raw.get("name") == "adaptiveCard/action":
        action = (raw.get("value") or {}).get("action") if isinstance(raw.get("value"), dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return _card_error(400, "NotSupported", "only Action.Execute card actions are supported")
        try:
            card_action_event(raw, ctx, actor_of(ctx), signer)
        except BadCardAction as exc:
            return _card_error(400, "BadRequest", str(exc))
    return None


def _log_refusal(raw: Any, refusal: web.Response) -> None:
    shaped = isinstance(raw, dict)
    log.warning(
        "teams: refused activity %s/%s: %s (%d)",
        raw.get("type") if shaped else "?",
        raw.get("id") if shaped else "?",
        refusal.text,
        refusal.status,
    )


def make_handler(runtime: TeamsRuntime) -> Any:
    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            log.warning("teams: refused %s with content type %r (415)", ROUTE, request.headers.get("Content-Type"))
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            raw = parse_json(await request.text())
        except (BadJson, UnicodeDecodeError):
            log.warning("teams: refused a body that is not JSON or nests too deep (400)")
            return web.json_response({"error": "the body is not JSON"}, status=400)
        refusal = envelope_problem(raw)
        if refusal is None:
            try:
                activity = Activity().deserialize(raw)
            except (DeserializationError, ValueError, TypeError) as exc:
                log.warning("teams: botbuilder cannot read the activity: %s", exc)
                refusal = web.json_response({"error": "malformed activity"}, status=400)
        if refusal is not None:
            _log_refusal(raw, refusal)
            return refusal
        try:  # the JWT is checked before Tandem looks any closer at the activity
            authenticated = await authenticate(runtime, activity, request.headers.get("Authorization", ""))
        except Unauthorized as exc:
            log.warning("teams: refused an unauthenticated %s activity: %s (401)", raw.get("type"), exc)
            return web.json_response({"error": "unauthorized"}, status=401)
        except KeysUnavailable as exc:
            log.error("teams: could not fetch the Bot Framework's signing keys: %s (503)", exc)
            return web.json_response({"error": "could not authenticate the request"}, status=503)
        refusal = shape_problem(raw, runtime.signer)
        if refusal is not None:
            _log_refusal(raw, refusal)
            return refusal

        async def logic(turn: Any) -> None:
            turn.turn_state[RAW_KEY] = raw
            await runtime.bot.on_turn(turn)

        try:
            invoke = await runtime.adapter.process_activity(authenticated, activity, logic)
        except PermissionError as exc:
            log.warning("teams: refused an unauthenticated %s activity: %s (401)", raw.get("type"), exc)
            return web.json_response({"error": "unauthorized"}, status=401)
        except Exception:
            log.exception("teams: turn failed for %s activity %s", raw.get("type"), raw.get("id"))
            return web.json_response({"error": "internal error"}, status=500)
        if invoke:
            if invoke.status == 501:
                log.info("teams: no handler for invoke %r (501)", raw.get("name"))
            body = serializer_helper(invoke.body) if isinstance(invoke.body, Model) else invoke.body
            return web.json_response(body, status=invoke.status)
        return web.Response(status=201)

    return messages


def mount(app: web.Application, core: Tandem, config: TeamsConfig, **port_options: Any) -> TeamsRuntime:
    """Add ``POST /api/messages`` and register the Teams port with the core."""
    if not config.authenticated:
        log.warning(
            "!!! Teams: MICROSOFT_APP_ID is not set: /api/messages accepts UNAUTHENTICATED requests. "
            "Use this only for local testing (Bot Framework Emulator, tests); set MICROSOFT_APP_ID and "
            "MICROSOFT_APP_PASSWORD before exposing the bot. !!!"
        )
    runtime = build_runtime(core, config, **port_options)
    core.register_port("teams", runtime.port)
    app[RUNTIME_KEY] = runtime
    app.router.add_post(ROUTE, make_handler(runtime))
    return runtime
