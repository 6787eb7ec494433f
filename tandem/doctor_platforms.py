"""`tandem doctor`'s Slack and Teams checks: token shapes, a real call each, the scopes granted vs needed."""

from __future__ import annotations

import uuid

import aiohttp

from tandem.doctor import Finding, ok, problem, skipped
from tandem.settings import Settings

TIMEOUT = aiohttp.ClientTimeout(total=15)
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"


async def check_slack(settings: Settings) -> list[Finding]:
    from adapters.slack.config import SlackConfig

    config = SlackConfig.from_settings(settings)
    if not (config.bot_token or config.app_token or config.oauth_enabled or config.signing_secret):
        return [skipped("slack", "not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; see docs/slack.md)")]
    findings: list[Finding] = []
    if not config.enabled:
        findings.append(
            problem(
                "slack",
                "incomplete: needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) and "
                "SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode",
            )
        )
    if config.bot_token:
        findings.append(await _slack_bot(config))
    elif config.oauth_enabled:
        findings.append(ok("slack", "OAuth install mode: each workspace's token is stored when it installs Tandem"))
    if config.app_token:
        findings.append(await _slack_socket_mode(config))
    return findings


async def _slack_bot(config) -> Finding:  # noqa: ANN001
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.config import BOT_SCOPES

    token = config.bot_token or ""
    if not token.startswith("xoxb-"):
        return problem("slack", "SLACK_BOT_TOKEN should be a bot token (xoxb-…), from OAuth & Permissions")
    client = AsyncWebClient(token=token, base_url=config.base_url, timeout=15)
    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        return problem("slack", f"auth.test refused the bot token: {exc.response.get('error', 'error')}")
    except Exception as exc:  # network: DNS, TLS, timeout
        return problem("slack", f"cannot reach Slack ({type(exc).__name__}: {exc})")
    where = f"workspace {resp.get('team')} ({resp.get('team_id')}) as {resp.get('user')}"
    header = next((v for k, v in resp.headers.items() if k.lower() == "x-oauth-scopes"), None)
    if header is None:
        return ok("slack", f"{where}; Slack did not say which scopes were granted")
    granted = {scope.strip() for scope in str(header).split(",") if scope.strip()}
    missing = sorted(set(BOT_SCOPES) - granted)
    if missing:
        return problem(
            "slack",
            f"{where}, but the token lacks {', '.join(missing)}: update the app from the manifest "
            "(`tandem slack-manifest`) and reinstall it",
        )
    return ok("slack", f"{where}, all {len(BOT_SCOPES)} scopes the manifest asks for are granted")


async def _slack_socket_mode(config) -> Finding:  # noqa: ANN001
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    token = config.app_token or ""
    if not token.startswith("xapp-"):
        return problem(
            "slack socket mode", "SLACK_APP_TOKEN should be an app-level token (xapp-…) with connections:write"
        )
    try:
        await AsyncWebClient(base_url=config.base_url, timeout=15).apps_connections_open(app_token=token)
    except SlackApiError as exc:
        return problem("slack socket mode", f"apps.connections.open refused: {exc.response.get('error', 'error')}")
    except Exception as exc:
        return problem("slack socket mode", f"cannot reach Slack ({type(exc).__name__}: {exc})")
    return ok("slack socket mode", "the app-level token can open a connection")


async def check_teams(settings: Settings) -> list[Finding]:
    from adapters.teams.config import TeamsConfig

    wanted = settings.teams_enabled if settings.teams_enabled is not None else bool(settings.microsoft_app_id)
    if not wanted:
        return [skipped("teams", "not configured (MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD; see docs/teams.md)")]
    try:
        config = TeamsConfig.from_settings(settings)
    except ValueError as exc:
        return [problem("teams", str(exc))]
    if not config.app_id:
        return [problem("teams", "mounted without MICROSOFT_APP_ID: unauthenticated, for local testing only")]
    try:
        uuid.UUID(config.app_id)
    except ValueError:
        return [problem("teams", f"MICROSOFT_APP_ID should be a GUID; got {config.app_id!r}")]
    if config.app_type == "UserAssignedMSI":
        return [skipped("teams", "managed identity: the token can only be fetched from inside Azure")]
    if not config.app_password:
        return [problem("teams", "MICROSOFT_APP_PASSWORD is empty")]
    return [await _teams_token(config, settings.teams_login_url)]


async def _teams_token(config, login_url: str) -> Finding:  # noqa: ANN001
    tenant = config.tenant_id if config.app_type == "SingleTenant" else "botframework.com"
    url = f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": config.app_id,
        "client_secret": config.app_password,
        "scope": BOTFRAMEWORK_SCOPE,
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.post(url, data=form) as resp:
            body = await resp.json(content_type=None)
            status = resp.status
    except Exception as exc:
        return problem("teams", f"cannot reach {login_url} ({type(exc).__name__}: {exc})")
    if status == 200 and isinstance(body, dict) and body.get("access_token"):
        return ok("teams", f"app {config.app_id} ({config.app_type}) got a Bot Framework token")
    reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
    first = str(reason).splitlines()[0] if reason else f"HTTP {status}"
    return problem("teams", f"the token fetch for app {config.app_id} failed: {first}")
