"""Slack OAuth installations and OAuth state, kept in Tandem's own database.

Bolt's OAuth flow needs an installation store (who installed, which bot token) and a state store (CSRF
protection for /slack/install → /slack/oauth_redirect). Both live in existing tables — ``installation`` and
``processed_event`` — so a multi-server deployment shares them without extra infrastructure.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete
from sqlmodel import col, select

from storage.database import Database
from storage.sealing import Sealer, open_data, seal_data
from storage.tables import Installation as InstallationRow
from storage.tables import ProcessedEvent

log = logging.getLogger("tandem.slack.oauth")
PLATFORM = "slack"
ORG_INSTALL = "org_install"  # data key of a workspace row that only points at its org-wide install


def installation_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool) -> str:
    """Org-wide installs are keyed by the enterprise id, workspace installs by the team id."""
    if is_enterprise_install or not team_id:
        return enterprise_id or ""
    return team_id


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o)))


class DatabaseInstallationStore(AsyncInstallationStore):
    """Saves one row per workspace (or org) in ``installation``; the newest install wins."""

    def __init__(self, db: Database, sealer: Sealer | None = None) -> None:
        self.db = db
        self.sealer = sealer or Sealer()  # no keys: tokens stored as they are (storage/sealing.py)
        self._org_members: set[tuple[str, str]] = set()  # (team, enterprise) links already written

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        key = installation_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        data = _jsonable(installation.to_dict())
        async with self.db.transaction() as session:
            row = (
                await session.exec(
                    select(InstallationRow).where(
                        InstallationRow.platform == PLATFORM, InstallationRow.external_id == key
                    )
                )
            ).first()
            if row is None:
                row = InstallationRow(platform=PLATFORM, external_id=key)
            row.enterprise_id = installation.enterprise_id
            row.bot_token = self.sealer.seal(installation.bot_token)
            row.bot_user_id = installation.bot_user_id
            row.bot_id = installation.bot_id
            row.installer_user_id = installation.user_id
            row.data = seal_data(self.sealer, data)
            row.installed_at = datetime.now(UTC)
            session.add(row)

    async def async_save_bot(self, bot: Bot) -> None:
        """Bots are saved as part of their installation (``async_save``)."""

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = installation_key(enterprise_id, team_id, bool(is_enterprise_install))
        if not key:
            return None
        async with self.db.session() as session:
            row = (
                await session.exec(
                    select(InstallationRow).where(
                        InstallationRow.platform == PLATFORM, InstallationRow.external_id == key
                    )
                )
            ).first()
        if row is None or not row.bot_token:
            return None
        if is_enterprise_install and enterprise_id and team_id:
            await self._remember_org_member(team_id, enterprise_id)
        data = open_data(self.sealer, dict(row.data or {}))
        data.setdefault("user_id", row.installer_user_id or "")
        data["bot_token"] = self.sealer.open(row.bot_token)
        allowed = Installation.__init__.__code__.co_varnames
        return Installation(**{k: v for k, v in data.items() if k in allowed and k != "self"})

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return found.to_bot() if found else None

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        key = installation_key(enterprise_id, team_id, team_id is None)
        async with self.db.transaction() as session:
            await session.exec(
                delete(InstallationRow).where(
                    col(InstallationRow.platform) == PLATFORM, col(InstallationRow.external_id) == key
                )
            )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def _remember_org_member(self, team_id: str, enterprise_id: str) -> None:
        """Note that a workspace is served by its org-wide install, so outbound sends to it find the token.

        Events from an org-wide install name both ids, but a scheduled round only knows the workspace. The
        link is a token-less ``installation`` row keyed by the team; a later workspace-level install of the
        same team overwrites it with its own token."""
        if (team_id, enterprise_id) in self._org_members:
            return
        async with self.db.transaction() as session:
            row = (
                await session.exec(
                    select(InstallationRow).where(
                        InstallationRow.platform == PLATFORM, InstallationRow.external_id == team_id
                    )
                )
            ).first()
            if row is None:
                session.add(
                    InstallationRow(
                        platform=PLATFORM,
                        external_id=team_id,
                        enterprise_id=enterprise_id,
                        data={ORG_INSTALL: enterprise_id},
                        installed_at=datetime.now(UTC),
                    )
                )
            elif not row.bot_token and (row.data or {}).get(ORG_INSTALL) != enterprise_id:
                row.enterprise_id = enterprise_id
                row.data = {ORG_INSTALL: enterprise_id}
                session.add(row)
        self._org_members.add((team_id, enterprise_id))

    async def bot_token(self, workspace_id: str) -> str | None:
        """The bot token for a team (or org) id, for outbound sends; a workspace of an org-wide install uses
        the org's token."""
        async with self.db.session() as session:
            row = (
                await session.exec(
                    select(InstallationRow).where(
                        InstallationRow.platform == PLATFORM, InstallationRow.external_id == workspace_id
                    )
                )
            ).first()
            org = (row.data or {}).get(ORG_INSTALL) if row is not None and not row.bot_token else None
            if org:
                row = (
                    await session.exec(
                        select(InstallationRow).where(
                            InstallationRow.platform == PLATFORM, InstallationRow.external_id == org
                        )
                    )
                ).first()
        return self.sealer.open(row.bot_token) if row else None


class DatabaseStateStore(AsyncOAuthStateStore):
    """One-time OAuth ``state`` values as ``processed_event`` rows, valid for ``expiration_seconds``."""

    PREFIX = "slack:oauth_state:"

    def __init__(self, db: Database, expiration_seconds: int = 600) -> None:
        self.db = db
        self.expiration = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        async with self.db.transaction() as session:
            session.add(ProcessedEvent(key=self.PREFIX + state, at=datetime.now(UTC)))
        return state

    async def async_consume(self, state: str) -> bool:
        oldest = datetime.now(UTC) - self.expiration
        async with self.db.transaction() as session:
            result = await session.exec(
                delete(ProcessedEvent).where(
                    col(ProcessedEvent.key) == self.PREFIX + state, col(ProcessedEvent.at) >= oldest
                )
            )
        return (result.rowcount or 0) == 1
