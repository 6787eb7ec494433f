"""Mounting the configured platform adapters on the web app (the only place that knows them all)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core import Tandem
from tandem.settings import Settings

log = logging.getLogger("tandem.platforms")


def mount_platforms(app: web.Application, core: Tandem, settings: Settings) -> list[str]:
    """Mount Slack and/or Teams when their settings are present; returns the mounted platform names."""
    mounted: list[str] = []
    from adapters.slack.config import SlackConfig

    slack = SlackConfig.from_settings(settings)
    if slack.enabled:
        from adapters.slack.http import mount as mount_slack

        mount_slack(app, core, slack)
        mounted.append("slack")
        log.info(
            "Slack: %s",
            "Socket Mode"
            if slack.socket_mode and not slack.signing_secret
            else "POST /slack/events" + (" + OAuth install at /slack/install" if slack.oauth_enabled else ""),
        )
    if _teams_wanted(settings):
        from adapters.teams.config import TeamsConfig
        from adapters.teams.http import mount as mount_teams

        mount_teams(app, core, TeamsConfig.from_settings(settings))
        mounted.append("teams")
    if not mounted:
        log.info("no chat platform is configured yet: set the Slack or Teams variables (see .env.example)")
    return mounted


def _teams_wanted(settings: Settings) -> bool:
    if settings.teams_enabled is not None:
        return settings.teams_enabled
    return bool(settings.microsoft_app_id)
