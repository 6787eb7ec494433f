"""A program's name when the admin left it blank: its kind and its channel's name, never a platform id.

The channel's name is asked of the platform once, when the program is created (the optional ``channel_name``
port capability, bot/kernel/port.py). Without an answer the name is just the kind ("Peer program"): a Teams
channel id ("19:…@thread.tacv2") means nothing to the people who read it.
"""

from __future__ import annotations

import logging

from bot.kernel.port import CHANNEL_NAME, SendError
from bot.kernel.runtime import Runtime
from storage.tables import Workspace

log = logging.getLogger("tandem.programs")


async def channel_name(core: Runtime, workspace: Workspace, channel_id: str) -> str | None:
    """The channel's name as people know it, or None when the platform can't (or won't) say."""
    ask = getattr(core.port(workspace.platform), CHANNEL_NAME, None)
    if ask is None:
        return None
    try:
        name = await ask(workspace.external_id, channel_id)
    except SendError as exc:
        log.info("could not look up the name of channel %s: %s", channel_id, exc)
        return None
    cleaned = str(name or "").lstrip("#").strip()
    return cleaned or None


def default_name(kind: str, channel: str | None) -> str:
    """ "Peer in #coffee", or "Peer program" when the channel's name is unknown."""
    label = kind.replace("_", " ").capitalize()
    return f"{label} in #{channel}" if channel else f"{label} program"
