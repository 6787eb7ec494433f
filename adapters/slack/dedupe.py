"""Act once per Slack event: Slack resends events it thinks we missed (``X-Slack-Retry-Num``).

Clicks are deduplicated by the core itself (``ActionEvent.event_id``), inside the click's transaction.

Keys go into the ``processed_event`` table, whose unique constraint makes "first one wins" hold across
several Tandem servers sharing one database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.tables import ProcessedEvent

log = logging.getLogger("tandem.slack")


def event_key(event_id: str) -> str:
    return f"slack:event:{event_id}"


async def claim(db: Database, key: str) -> bool:
    """True the first time ``key`` is seen; False for a repeat."""
    try:
        async with db.transaction() as session:
            session.add(ProcessedEvent(key=key[:255], at=datetime.now(UTC)))
    except IntegrityError:
        log.info("slack: skipping repeat delivery %s", key)
        return False
    return True


async def release(db: Database, key: str) -> None:
    """Forget a claim whose processing failed, so Slack's retry can try again."""
    async with db.transaction() as session:
        await session.exec(delete(ProcessedEvent).where(ProcessedEvent.key == key[:255]))  # type: ignore[call-overload]
