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
    if not mounted:
        log.info("no chat platform is configured yet: set the Slack or Teams variables (see .env.example)")
    return mounted
