"""Who is this Slack user? ``users.info`` answers (name, e-mail, zone, admin), cached to spare rate limits."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("tandem.slack")


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str | None = None
    email: str | None = None
    timezone: str | None = None
    is_admin: bool | None = None  # workspace admin or owner
    is_bot: bool = False
    deleted: bool = False


def profile_from(user: dict[str, Any]) -> Profile:
    """users.info ``user`` object → Profile."""
    prof = user.get("profile") or {}
    name = prof.get("display_name") or prof.get("real_name") or user.get("real_name") or user.get("name")
    is_admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    return Profile(
        user_id=user.get("id", ""),
        name=name or None,
        email=prof.get("email") or None,
        timezone=user.get("tz") or None,
        is_admin=is_admin,
        is_bot=bool(user.get("is_bot") or user.get("is_app_user")),
        deleted=bool(user.get("deleted")),
    )


class Directory:
    """An in-memory TTL cache in front of ``users.info``; one lookup in flight per person."""

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self.ttl = ttl_seconds
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future[Profile | None]] = {}

    async def profile(self, client: AsyncWebClient, workspace_id: str, user_id: str) -> Profile | None:
        """The person's profile, or None when Slack can't tell us (the event still goes through)."""
        key = (workspace_id, user_id)
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._fetch(client, user_id)
            if result is not None:
                self._cache[key] = (time.monotonic() + self.ttl, result)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(key, None)

    async def _fetch(self, client: AsyncWebClient, user_id: str) -> Profile | None:
        try:
            resp = await client.users_info(user=user_id)
        except Exception as exc:  # network or API error: the event is still handled, just without a profile
            log.warning("slack: users.info %s failed: %s", user_id, exc)
            return None
        user = resp.get("user")
        return profile_from(user) if isinstance(user, dict) else None

    def forget(self, workspace_id: str, user_id: str) -> None:
        self._cache.pop((workspace_id, user_id), None)
