"""Durable delivery: every outgoing message is written first, then claimed, sent and recorded.

The idempotency key (program, round, match, step, recipient) makes writing a message twice a no-op, so a
step that is retried after a crash can simply enqueue again. The sender claims a batch, sends, and records
the platform's message id one delivery at a time, which keeps the unavoidable window (sent by the platform
but not yet recorded) to the length of one database write.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import SentRef
from bot.messages import Message
from bot.port import SendError
from storage.enums import DeliveryState
from storage.tables import Delivery, IcebreakerPost, Match, Workspace
from storage.upsert import insert_ignore

if TYPE_CHECKING:
    from bot.core import Tandem

log = logging.getLogger("tandem.outbox")

MAX_ATTEMPTS = 6
RECORD_EVERY = 25  # sends recorded per transaction: the crash window is at most this many sends
SEND_CONCURRENCY = 8  # conversations sent to at once; adapters pace within platform limits
LEASE = timedelta(minutes=5)  # a claim older than this is taken to be from a sender that died


Outcome = tuple[Delivery, "SentRef | None | SendError"]


def _lane(delivery: Delivery) -> str:
    """Messages to the same place keep their order; different places may go in parallel."""
    target = delivery.target
    return f"{delivery.workspace_id}:{target.get('kind')}:{target.get('user_id') or target.get('user_ids')}:" \
           f"{target.get('channel_id')}:{target.get('conversation_id')}"


def to_user(user_id: str) -> dict[str, Any]:
    return {"kind": "user", "user_id": user_id}


def to_group(user_ids: list[str]) -> dict[str, Any]:
    return {"kind": "group", "user_ids": sorted(user_ids)}


def to_channel(channel_id: str, thread_id: str | None = None) -> dict[str, Any]:
    return {"kind": "channel", "channel_id": channel_id, "thread_id": thread_id}


def to_update(ref: SentRef) -> dict[str, Any]:
    return {"kind": "update", "conversation_id": ref.conversation_id, "message_id": ref.message_id}


@dataclass(frozen=True)
class Outgoing:
    """One message to write to the outbox."""

    key: str
    step: str
    target: dict[str, Any]
    message: Message
    program_id: int | None = None
    round_id: int | None = None
    match_id: int | None = None
    not_before: datetime | None = None


async def enqueue(session: AsyncSession, workspace_id: int, items: list[Outgoing], now: datetime) -> int:
    """Write deliveries; keys already present are left alone (that is what makes steps re-runnable)."""
    if not items:
        return 0
    rows = [
        {
            "idempotency_key": item.key,
            "workspace_id": workspace_id,
            "program_id": item.program_id,
            "round_id": item.round_id,
            "match_id": item.match_id,
            "step": item.step,
            "target": item.target,
            "message": item.message.model_dump(mode="json"),
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": item.not_before or now,
            "created_at": now,
        }
        for item in items
    ]
    return await insert_ignore(session, Delivery, rows, ["idempotency_key"])


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with jitter, at least what the platform asked for."""
    base = min(600.0, 2.0 ** attempt) * (0.5 + random.random() / 2)
    return timedelta(seconds=max(base, retry_after or 0.0))


class Dispatcher:
    """Claims due deliveries and sends them through the platform ports."""

    def __init__(self, core: Tandem) -> None:
        self.core = core

    async def run_once(self, limit: int = 200) -> int:
        sent_total = 0
        while True:
            batch = await self._claim(limit)
            if not batch:
                return sent_total
            for start in range(0, len(batch), RECORD_EVERY):
                outcomes = await self._send_chunk(batch[start : start + RECORD_EVERY])
                sent_total += await self._record(outcomes)
            if len(batch) < limit:
                return sent_total

    async def _send_chunk(self, chunk: list[tuple[Delivery, Workspace]]) -> list[Outcome]:
        """Send concurrently across conversations, in order within one conversation."""
        lanes: dict[str, list[tuple[Delivery, Workspace]]] = {}
        for delivery, workspace in chunk:
            lanes.setdefault(_lane(delivery), []).append((delivery, workspace))
        limit = asyncio.Semaphore(SEND_CONCURRENCY)
        outcomes: list[Outcome] = []

        async def lane(items: list[tuple[Delivery, Workspace]]) -> None:
            for delivery, workspace in items:
                async with limit:
                    outcomes.append((delivery, await self._attempt(delivery, workspace)))

        await asyncio.gather(*(lane(items) for items in lanes.values()))
        return outcomes

    async def _attempt(self, delivery: Delivery, workspace: Workspace) -> SentRef | None | SendError:
        try:
            return await self._send(delivery, workspace)
        except SendError as exc:
            return exc
        except Exception as exc:  # an adapter bug must not stop the other deliveries
            log.exception("delivery %s crashed in the adapter", delivery.idempotency_key)
            return SendError(f"{type(exc).__name__}: {exc}")

    async def _record(self, outcomes: list[Outcome]) -> int:
        """One short transaction for a chunk: keeps the sent-but-unrecorded window to one chunk's sends."""
        now = self.core.clock.now()
        sent = 0
        async with self.core.db.transaction() as session:
            for delivery, result in outcomes:
                if isinstance(result, SendError):
                    await self._record_failure(session, delivery, result, now)
                    continue
                sent += 1
                await session.exec(update(Delivery).where(Delivery.id == delivery.id).values(  # type: ignore[call-overload]
                    state=DeliveryState.SENT.value, sent_at=now, last_error=None,
                    conversation_id=result.conversation_id if result else None,
                    platform_message_id=result.message_id if result else None))
                if result is not None:
                    await self._after_send(session, delivery, result)
        return sent

    async def _claim(self, limit: int) -> list[tuple[Delivery, Workspace]]:
        now = self.core.clock.now()
        db = self.core.db
        async with db.transaction() as session:
            # a claim whose sender died is released: at-least-once beats lost (see docs/delivery.md)
            await session.exec(update(Delivery).where(  # type: ignore[call-overload]
                Delivery.state == DeliveryState.SENDING.value, Delivery.claimed_at < now - LEASE
            ).values(state=DeliveryState.PENDING.value, claimed_by=None))
            query = (
                select(Delivery.id)
                .where(Delivery.state == DeliveryState.PENDING.value)
                .where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
                .order_by(col(Delivery.id))
                .limit(limit)
            )
            if db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.exec(query)).all())
            if not ids:
                return []
            await session.exec(update(Delivery).where(col(Delivery.id).in_(ids)).values(  # type: ignore[call-overload]
                state=DeliveryState.SENDING.value, claimed_by=self.core.instance_id, claimed_at=now,
                attempts=Delivery.attempts + 1))
            rows = (await session.exec(
                select(Delivery, Workspace).join(Workspace, and_(Workspace.id == Delivery.workspace_id))
                .where(col(Delivery.id).in_(ids)).order_by(col(Delivery.id)))).all()
            return [(d, w) for d, w in rows]

    async def _send(self, delivery: Delivery, workspace: Workspace) -> SentRef | None:
        port = self.core.port(workspace.platform)
        message = Message.model_validate(delivery.message)
        target = delivery.target
        kind = target.get("kind")
        if kind == "user":
            return await port.send_to_user(workspace.external_id, target["user_id"], message)
        if kind == "group":
            return await port.send_to_group(workspace.external_id, list(target["user_ids"]), message)
        if kind == "channel":
            return await port.post_to_channel(workspace.external_id, target["channel_id"], message,
                                              target.get("thread_id"))
        if kind == "update":
            ref = SentRef(conversation_id=target["conversation_id"], message_id=target["message_id"])
            await port.update_message(workspace.external_id, ref, message)
            return ref
        raise SendError(f"unknown delivery target {target!r}", retryable=False)

    async def _record_failure(self, session: AsyncSession, delivery: Delivery, exc: SendError,
                              now: datetime) -> None:
        attempts = delivery.attempts  # already counted when claimed
        final = exc.gone or not exc.retryable or attempts >= MAX_ATTEMPTS
        values: dict[str, Any] = {"last_error": str(exc)[:2000], "claimed_by": None}
        if final:
            values["state"] = DeliveryState.FAILED.value
            log.warning("delivery %s failed for good: %s", delivery.idempotency_key, exc)
        else:
            values["state"] = DeliveryState.PENDING.value
            values["next_attempt_at"] = now + backoff(attempts, exc.retry_after)
        await session.exec(update(Delivery).where(Delivery.id == delivery.id).values(**values))  # type: ignore[call-overload]

    async def _after_send(self, session: AsyncSession, delivery: Delivery, ref: SentRef) -> None:
        """Remember where things were said, so follow-ups go to the same place."""
        if delivery.match_id and delivery.target.get("kind") == "group" and delivery.step == "intro":
            await session.exec(update(Match).where(Match.id == delivery.match_id).values(  # type: ignore[call-overload]
                conversation_id=ref.conversation_id))
        post_id = delivery.target.get("icebreaker_post_id")
        if post_id:
            await session.exec(update(IcebreakerPost).where(IcebreakerPost.id == post_id).values(  # type: ignore[call-overload]
                message_id=ref.message_id))
