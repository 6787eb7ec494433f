"""Files waiting for someone to accept a Teams file-consent card (the ``teams_pending_file`` table).

A file-consent card can be answered days after it was sent, by another process after a restart, and Teams
may deliver the same answer twice. So the bytes live in the database, and each state change is one
conditional UPDATE: only one accept ever gets to upload a file, and a decline or an expiry drops the bytes.

States: ``offered`` (card sent or about to be) → ``uploading`` (an accept is putting it in OneDrive) →
``sent``; or ``offered`` → ``declined``. A failed upload goes back to ``offered``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import TeamsPendingFile

OFFERED = "offered"
UPLOADING = "uploading"
SENT = "sent"
DECLINED = "declined"

KEEP_FOR = timedelta(days=7)  # an offer nobody answered is dropped after this
REOFFER_WINDOW = timedelta(hours=2)  # a retried send within this reuses the earlier offer (outbox backoff)
STALE_UPLOAD = timedelta(minutes=10)  # an upload claimed this long ago died with its process: free it


@dataclass(frozen=True)
class PendingFile:
    id: int
    token: str
    tenant_id: str
    user_id: str
    filename: str
    mime_type: str
    title: str
    content: bytes
    state: str
    consent_activity_id: str | None
    created_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.created_at < now - KEEP_FOR


def _pending(row: TeamsPendingFile) -> PendingFile:
    assert row.id is not None and row.created_at is not None
    return PendingFile(
        id=row.id,
        token=row.token,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        filename=row.filename,
        mime_type=row.mime_type,
        title=row.title,
        content=bytes(row.content or b""),
        state=row.state,
        consent_activity_id=row.consent_activity_id,
        created_at=row.created_at,
    )


async def offer(
    db: Database,
    *,
    offer_key: str,
    tenant_id: str,
    user_id: str,
    filename: str,
    mime_type: str,
    title: str,
    content: bytes,
    now: datetime,
) -> PendingFile:
    """The open offer for ``offer_key`` made in the last two hours (a retried send), or a new one."""
    async with db.transaction() as session:
        result = await session.exec(
            select(TeamsPendingFile)
            .where(
                TeamsPendingFile.offer_key == offer_key,
                TeamsPendingFile.state == OFFERED,
                col(TeamsPendingFile.created_at) >= now - REOFFER_WINDOW,
            )
            .order_by(col(TeamsPendingFile.id).desc())
        )
        row = result.first()
        if row is None:
            row = TeamsPendingFile(
                token=secrets.token_urlsafe(24),
                offer_key=offer_key,
                tenant_id=tenant_id,
                user_id=user_id,
                filename=filename[:255],
                mime_type=mime_type[:128],
                title=title[:300],
                content=content,
                state=OFFERED,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
        return _pending(row)


async def find(db: Database, token: str) -> PendingFile | None:
    async with db.session() as session:
        result = await session.exec(select(TeamsPendingFile).where(TeamsPendingFile.token == token))
        row = result.first()
        return _pending(row) if row else None


async def set_consent_activity(db: Database, file_id: int, activity_id: str, now: datetime) -> None:
    """Remember which message holds the card, so it can be replaced once answered."""
    await _update(db, col(TeamsPendingFile.id) == file_id, consent_activity_id=activity_id[:256], updated_at=now)


async def claim_upload(db: Database, token: str, now: datetime) -> bool:
    """True for exactly one accept: the file moves to ``uploading`` (a stale claim may be taken over)."""
    return await _update(
        db,
        and_(
            col(TeamsPendingFile.token) == token,
            col(TeamsPendingFile.created_at) >= now - KEEP_FOR,
            or_(
                col(TeamsPendingFile.state) == OFFERED,
                and_(col(TeamsPendingFile.state) == UPLOADING, col(TeamsPendingFile.updated_at) < now - STALE_UPLOAD),
            ),
        ),
        state=UPLOADING,
        updated_at=now,
    )


async def release(db: Database, token: str, now: datetime) -> None:
    """The upload failed: the offer stands again, bytes and all."""
    await _update(
        db,
        and_(col(TeamsPendingFile.token) == token, col(TeamsPendingFile.state) == UPLOADING),
        state=OFFERED,
        updated_at=now,
    )


async def mark_sent(db: Database, token: str, now: datetime) -> None:
    """Uploaded: the bytes are in the person's OneDrive now, so they are dropped here."""
    await _update(db, col(TeamsPendingFile.token) == token, state=SENT, content=b"", updated_at=now)


async def decline(db: Database, token: str, now: datetime) -> bool:
    """True if this answer declined an open offer (a repeated decline is False); the bytes are dropped."""
    return await _update(
        db,
        and_(col(TeamsPendingFile.token) == token, col(TeamsPendingFile.state) == OFFERED),
        state=DECLINED,
        content=b"",
        updated_at=now,
    )


async def purge_expired(db: Database, now: datetime) -> int:
    """Drop offers older than a week (called lazily whenever files are offered or answered)."""
    async with db.transaction() as session:
        result = await session.exec(delete(TeamsPendingFile).where(col(TeamsPendingFile.created_at) < now - KEEP_FOR))
        return int(result.rowcount or 0)


async def _update(db: Database, where: ColumnElement[bool], **values: Any) -> bool:
    async with db.transaction() as session:
        result = await session.exec(update(TeamsPendingFile).where(where).values(**values))
        return (result.rowcount or 0) == 1
