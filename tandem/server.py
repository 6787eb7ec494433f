"""The HTTP server: health check plus each configured platform's endpoints.

Minimal version written on the Slack branch so the adapter can be served; the lead's version on main
supersedes it at merge.
"""

from __future__ import annotations

from aiohttp import web

from bot.core import Tandem
from storage.database import health


def build_app(core: Tandem, settings: object) -> web.Application:
    """An aiohttp app with ``GET /healthz`` and the Slack endpoints when Slack is configured."""
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        report = await health(core.db)
        return web.json_response(report, status=200 if report.get("database") == "ok" else 503)

    app.router.add_get("/healthz", healthz)

    from adapters.slack.config import SlackConfig

    slack = SlackConfig.from_settings(settings)
    if slack.enabled:
        from adapters.slack.http import mount

        mount(app, core, slack)
    return app
