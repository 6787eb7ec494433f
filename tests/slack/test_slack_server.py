"""The real server wiring (tandem.server.build_app) mounts Slack when its settings are present."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from tandem.server import build_app, build_core
from tandem.settings import Settings
from tests.slack.slack_support import SECRET, json_request, load


async def test_build_app_serves_slack_events_and_health(database, fake, conformance) -> None:  # noqa: ANN001
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        TANDEM_SLACK_API_URL=fake.api_url,
        TANDEM_SLACK_ADMINS="U1, U2",
    )
    core = build_core(database, settings)
    app = build_app(core, settings)
    assert "slack" in core.ports
    assert core.admins.is_listed("slack", "U2")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        payload = load("events/url_verification.json")
        body, headers = json_request(payload)
        resp = await client.post("/slack/events", data=body, headers=headers)
        assert resp.status == 200 and (await resp.json())["challenge"] == payload["challenge"]


async def test_without_slack_settings_nothing_is_mounted(database) -> None:  # noqa: ANN001
    settings = Settings(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="")
    core = build_core(database, settings)
    app = build_app(core, settings)
    assert "slack" not in core.ports
    assert not any(r.resource and r.resource.canonical == "/slack/events" for r in app.router.routes())


async def test_oauth_mode_serves_the_install_page(database, fake) -> None:  # noqa: ANN001
    settings = Settings(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        TANDEM_SLACK_API_URL=fake.api_url,
    )
    core = build_core(database, settings)
    app = build_app(core, settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get("/slack/install", allow_redirects=False)
        assert resp.status in (200, 302)
        text = await resp.text()
        assert "slack.com/oauth/v2/authorize" in text + resp.headers.get("Location", "")
        assert "client_id=111.222" in text + resp.headers.get("Location", "")
        bad = await client.get("/slack/oauth_redirect?code=x&state=forged", allow_redirects=False)
        assert bad.status in (400, 401, 403)
