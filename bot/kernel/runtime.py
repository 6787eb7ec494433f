"""The small runtime interface every feature types against, instead of the whole core object.

It names only what features use: the database, the clock, the platform ports, the sender's wake-up
signal and a few settings. :class:`bot.core.Tandem` satisfies it; tests may pass anything that does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot.kernel.clock import Clock
from bot.kernel.port import ChatPort
from storage.database import Database


@dataclass
class AdminPolicy:
    """Extra admins by platform user id (e.g. from TANDEM_SLACK_ADMINS), on top of platform admins."""

    extra_admins: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_listed(self, platform: str, user_id: str) -> bool:
        return user_id in self.extra_admins.get(platform, frozenset())


@dataclass(frozen=True)
class PrivacyPolicy:
    """How long personal data is kept (None: until someone erases it) and whether an uninstall forgets all."""

    retention: timedelta | None = timedelta(days=548)  # about 18 months after a person's last activity
    free_text_retention: timedelta | None = None  # None: free-text answers live as long as the person's data
    forget_on_uninstall: bool = False


class Runtime(Protocol):
    """What a feature may reach: storage, time, the platforms and the sender's wake-up."""

    db: Database
    clock: Clock
    admins: AdminPolicy
    instance_id: str
    ports: dict[str, ChatPort]
    default_timezone: str
    step_grace: timedelta | None
    pacing: bool
    privacy: PrivacyPolicy
    wakeup: asyncio.Event

    def port(self, platform: str) -> ChatPort:
        """The port of one platform; LookupError when no adapter is registered for it."""
        ...
