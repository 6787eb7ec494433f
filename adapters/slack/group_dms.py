"""Group DMs Slack has opened for us, kept in the database so a restart doesn't reopen every one of them.

Reads and writes each run in a short transaction of their own: the outbox sends outside any transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlmodel import col, select

from storage.database import Database
from storage.tables import SlackGroupDM
from storage.upsert import insert_ignore


class GroupDMs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, workspace_id: str, members: str) -> str | None:
        async with self.db.session() as session:
            row = (
                await session.exec(
                    select(SlackGroupDM.channel_id).where(
                        SlackGroupDM.workspace_id == workspace_id, SlackGroupDM.members == members
                    )
                )
            ).first()
        return row

    async def remember(self, workspace_id: str, members: str, channel_id: str) -> None:
        async with self.db.transaction() as session:
            await insert_ignore(
                session,
                SlackGroupDM,
                [
                    {
                        "workspace_id": workspace_id,
                        "members": members,
                        "channel_id": channel_id,
                        "opened_at": datetime.now(UTC),
                    }
                ],
                keys=["workspace_id", "members"],
            )

    async def forget(self, workspace_id: str, members: str) -> None:
        """The conversation is gone (archived, people left): the next message opens a fresh one."""
        async with self.db.transaction() as session:
            await session.exec(
                delete(SlackGroupDM).where(
                    col(SlackGroupDM.workspace_id) == workspace_id, col(SlackGroupDM.members) == members
                )
            )
