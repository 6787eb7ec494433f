"""Durable delivery: every outgoing message is written first, then claimed, sent and recorded.

The idempotency key (program, round, match, step, recipient) makes writing a message twice a no-op, so a
step that is retried after a crash can simply enqueue again. A sender claims a batch under a unique claim
token (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of senders share the queue), sends it, and
records outcomes in small flushes while it keeps sending. The one unavoidable window, sent by the platform
but not yet recorded, covers at most the sends in flight plus ``record_every`` outcomes (or ``flush_seconds``
of them), and only opens on a hard kill: a cancelled sender records what it sent and hands back the rest
before it stops. See docs/delivery.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.digest import digest_failed, digest_sent
from bot.delivery.heartbeat import check_alive
from bot.delivery.pacing import pace_due, unpaced
from bot.delivery.urgency import DAY_DIGEST
from bot.kernel.events import SentRef
from bot.kernel.messages import Message
from bot.kernel.port import SendError
from bot.kernel.runtime import Runtime
from storage.enums import DeliveryState
from storage.tables import Delivery, IcebreakerPost, Match, Workspace
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.outbox")

MAX_ATTEMPTS = 8  # claims before a retryable failure is final (backoff adds up to about 1.5 h)
RECORD_EVERY = 10  # outcomes per recording transaction: bounds the sent-but-unrecorded window on a hard kill
FLUSH_SECONDS = 0.25  # ... and so does time: outcomes are recorded at least this often while sending
SEND_CONCURRENCY = 8  # conversations sent to at once; adapters pace within platform limits
LEASE = timedelta(minutes=5)  # a claim not renewed for this long is taken to be from a sender that died
QUICK_RETRY_SECONDS = 2.0  # a 429 asking to wait at most this long is retried at once, in the same pass
QUICK_RETRIES = 3  # ... this many times, before the delivery goes back to the queue with backoff


def _lane(delivery: Delivery) -> str:
    """Messages to the same place keep their order; different places may go in parallel."""
    target = delivery.target
    return (
        f"{delivery.workspace_id}:{target.get('kind')}:{target.get('user_id') or target.get('user_ids')}:"
        f"{target.get('channel_id')}:{target.get('conversation_id')}"
    )


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
    """Exponential backoff with jitter (5 s, 15 s, 45 s … capped at 1 h), at least what the platform asked."""
    base = min(3600.0, 5.0 * 3.0 ** max(0, attempt - 1)) * (0.5 + random.random() / 2)
    return timedelta(seconds=max(base, retry_after or 0.0))


@dataclass(frozen=True)
class _Failed:
    """A failed attempt with its verdict: ``retry_at`` None means it failed for good."""

    error: SendError
    retry_at: datetime | None


@dataclass(frozen=True)
class _Deferred:
    """Not attempted: an earlier message to the same conversation failed, so this one waits to keep order."""

    retry_at: datetime | None


Result = SentRef | None | _Failed | _Deferred
Attempt = SentRef | None | SendError  # what one send came to, before a failure gets its verdict


async def _settle(records: list[asyncio.Task[int]]) -> None:
    """Wait for recordings already under way, even through repeated cancellations: they are short and must
    finish, or what they record as sent would be handed back (and sent again) by the release that follows."""
    if not records:
        return
    everything = asyncio.gather(*records, return_exceptions=True)
    while not everything.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(everything)


class Dispatcher:
    """Claims due deliveries and sends them through the platform ports.

    Several dispatchers (tasks or processes) may run against one PostgreSQL database: claims never overlap.
    """

    def __init__(
        self,
        core: Runtime,
        *,
        lease: timedelta = LEASE,
        record_every: int = RECORD_EVERY,
        flush_seconds: float = FLUSH_SECONDS,
        concurrency: int = SEND_CONCURRENCY,
    ) -> None:
        self.core = core
        self.lease = lease
        self.record_every = record_every
        self.flush_seconds = flush_seconds
        self.concurrency = concurrency
        self._gate = asyncio.Semaphore(concurrency)  # shared by overlapping batches: total sends in flight
        self._tails: dict[str, asyncio.Future[_Deferred | None]] = {}  # per conversation: its latest sender
        self._renewed: dict[str, datetime] = {}  # claim token → when its lease was last pushed forward
        self._paced_at: datetime | None = None  # deliveries written after this wait for the next pacing pass
        # SQLite takes one writer at a time and makes the others sleep in its busy handler (a millisecond
        # ladder): recordings and claims queue here instead. PostgreSQL writes concurrently, row by row.
        self._writes = asyncio.Semaphore(concurrency if core.db.is_postgres else 1)
        self.given_up: list[Delivery] = []  # failed for good in this dispatcher's passes (bot/delivery/failures.py)

    async def run_once(self, limit: int = 200) -> int:
        """Send everything that is due now; returns how many were sent.

        The next batch is claimed while the current one finishes its last sends (at most two in flight), so
        the platform's rate limit, not the database round trips, sets the pace.
        """
        running: set[asyncio.Task[int]] = set()
        sent = 0
        if getattr(self.core, "pacing", True):  # quiet hours, weekly cap, the day's digest
            self._paced_at = self.core.clock.now()
            await pace_due(self.core, self._paced_at)
        try:
            while True:
                token = f"{self.core.instance_id}:{uuid.uuid4().hex[:12]}"
                self._renewed[token] = self.core.clock.now()
                batch = await self._claim(limit, token)
                if not batch:
                    break
                nearly = asyncio.Event()
                running.add(asyncio.create_task(self._deliver(batch, token, nearly)))
                if len(batch) < limit:
                    break
                await nearly.wait()
                while len(running) >= 2:
                    finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in finished:
                        running.discard(task)
                        sent += task.result()
            for outcome in asyncio.as_completed(list(running)):
                sent += await outcome
            running.clear()
        finally:
            for task in running:
                task.cancel()
            if running:  # each batch records what it sent and hands back the rest (see _deliver)
                await asyncio.wait(running)
        return sent

    async def _deliver(
        self, batch: list[tuple[Delivery, Workspace]], token: str, nearly: asyncio.Event | None = None
    ) -> int:
        """Send concurrently across conversations, in order within one, recording as outcomes come in.

        Recording runs in its own tasks while sending goes on, and a recording that has started is always
        awaited (never cancelled half-way). Outcomes not yet handed to a recording are the crash window.
        ``nearly`` is set when a quarter of the sends are left to start, so the caller claims the next batch.
        """
        run = _BatchRun(self, batch, token, nearly)
        try:
            async with asyncio.TaskGroup() as group:
                for key, items in run.lanes.items():
                    group.create_task(run.lane(key, items))
        except (asyncio.CancelledError, Exception):
            # a graceful stop (or an adapter/database error): record what was sent, and hand the rest of the
            # claim back at once instead of after the lease; only a hard kill leaves the window open
            run.flush()
            await _settle(run.records)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(self._release(token))
            raise
        except BaseException:
            await _settle(run.records)  # a crash: what was handed over is recorded, the rest is the window
            raise
        finally:
            if nearly is not None:
                nearly.set()
        run.flush()
        try:  # a stop arriving now must not cancel the recordings: the sends are done, the record must be too
            return sum(await asyncio.shield(asyncio.gather(*run.records)))
        except asyncio.CancelledError:
            await _settle(run.records)
            raise

    async def _attempt(self, delivery: Delivery, workspace: Workspace, gate: asyncio.Semaphore) -> Attempt:
        """One delivery, with quick in-pass retries when the platform asks for only a short wait."""
        for quick in range(QUICK_RETRIES + 1):
            async with gate:
                result = await self._try_send(delivery, workspace)
            if not isinstance(result, SendError):
                return result
            wait = result.retry_after
            if wait is None or not result.retryable or wait > QUICK_RETRY_SECONDS or quick == QUICK_RETRIES:
                return result
            await asyncio.sleep(wait)
        return result  # pragma: no cover - the loop always returns

    def _verdict(self, delivery: Delivery, exc: SendError) -> _Failed:
        attempts = delivery.attempts  # already counted when claimed
        if exc.gone or not exc.retryable or attempts >= MAX_ATTEMPTS:
            return _Failed(exc, None)
        return _Failed(exc, self.core.clock.now() + backoff(attempts, exc.retry_after))

    async def _try_send(self, delivery: Delivery, workspace: Workspace) -> Attempt:
        try:
            return await self._send(delivery, workspace)
        except SendError as exc:
            return exc
        except Exception as exc:  # an adapter bug must not stop the other deliveries
            log.exception("delivery %s crashed in the adapter", delivery.idempotency_key)
            return SendError(f"{type(exc).__name__}: {exc}")

    async def _record(self, outcomes: list[tuple[Delivery, Result]], token: str) -> int:
        """One short transaction per flush; also renews the lease on the rest of this claim."""
        async with self._writes:
            return await self._record_now(outcomes, token)

    async def _record_now(self, outcomes: list[tuple[Delivery, Result]], token: str) -> int:
        now = self.core.clock.now()
        sent_rows: list[dict[str, Any]] = []
        async with self.core.db.transaction() as session:
            for delivery, result in outcomes:
                if isinstance(result, _Deferred):
                    await session.exec(
                        update(Delivery)
                        .where(col(Delivery.id) == delivery.id, col(Delivery.claimed_by) == token)
                        .values(
                            state=DeliveryState.PENDING.value,
                            claimed_by=None,
                            attempts=Delivery.attempts - 1,
                            next_attempt_at=result.retry_at or now,
                        )
                    )
                    continue
                if isinstance(result, _Failed):
                    await self._record_failure(session, delivery, result, token)
                    continue
                sent_rows.append(
                    {
                        "b_id": delivery.id,
                        "b_conversation": result.conversation_id if result else None,
                        "b_message": result.message_id if result else None,
                    }
                )
                if delivery.step == DAY_DIGEST:
                    await digest_sent(session, delivery, result, now)
                if result is not None:
                    await self._after_send(session, delivery, result)
            if sent_rows:
                # sent is a fact whoever holds the claim now, so this write is unconditional; one statement
                # executed for many rows keeps recording cheap next to sending
                table = Delivery.__table__  # type: ignore[attr-defined]
                connection = await session.connection()  # Core executemany, same transaction
                await connection.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        state=DeliveryState.SENT.value,
                        sent_at=now,
                        last_error=None,
                        claimed_by=None,
                        conversation_id=bindparam("b_conversation"),
                        platform_message_id=bindparam("b_message"),
                    ),
                    sent_rows,
                )
            if now - self._renewed.get(token, now) >= self.lease / 4:
                await self._renew(session, token, now)
                self._renewed[token] = now
        return len(sent_rows)

    async def _release(self, token: str) -> None:
        """Give back what this claim did not get to (not counted as an attempt)."""
        async with self.core.db.transaction() as session:
            await session.exec(
                update(Delivery)
                .where(col(Delivery.claimed_by) == token, col(Delivery.state) == DeliveryState.SENDING.value)
                .values(state=DeliveryState.PENDING.value, claimed_by=None, attempts=Delivery.attempts - 1)
            )

    async def _renew(self, session: AsyncSession, token: str, now: datetime) -> None:
        """Push the lease of this claim's unsent rows forward, skipping rows another recording holds.

        Recordings of one claim run concurrently; waiting for each other's rows here could deadlock.
        """
        mine = select(Delivery.id).where(Delivery.claimed_by == token, Delivery.state == DeliveryState.SENDING.value)
        if self.core.db.is_postgres:
            mine = mine.with_for_update(skip_locked=True)
        await session.exec(update(Delivery).where(col(Delivery.id).in_(mine.scalar_subquery())).values(claimed_at=now))

    async def _claim(self, limit: int, token: str) -> list[tuple[Delivery, Workspace]]:
        async with self._writes:
            return await self._claim_now(limit, token)

    async def _claim_now(self, limit: int, token: str) -> list[tuple[Delivery, Workspace]]:
        now = self.core.clock.now()
        db = self.core.db
        async with db.transaction() as session:
            await self._release_expired(session, now)
            query = (
                select(Delivery.id)
                .where(Delivery.state == DeliveryState.PENDING.value)
                .where(or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now))
                .order_by(col(Delivery.id))
                .limit(limit)
            )
            if self._paced_at is not None:
                query = query.where(~unpaced(self._paced_at))
            if db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.exec(query)).all())
            if not ids:
                return []
            # the state condition makes a race on SQLite (no row locks) harmless: only one claimer wins a row
            await session.exec(
                update(Delivery)
                .where(col(Delivery.id).in_(ids), col(Delivery.state) == DeliveryState.PENDING.value)
                .values(
                    state=DeliveryState.SENDING.value, claimed_by=token, claimed_at=now, attempts=Delivery.attempts + 1
                )
            )
            rows = (
                await session.exec(
                    select(Delivery, Workspace)
                    .join(Workspace, and_(col(Workspace.id) == Delivery.workspace_id))
                    .where(Delivery.claimed_by == token)
                    .order_by(col(Delivery.id))
                )
            ).all()
            return [(d, w) for d, w in rows]

    async def _release_expired(self, session: AsyncSession, now: datetime) -> None:
        """A claim whose sender died goes back to the queue: at-least-once beats lost (docs/delivery.md)."""
        stale = and_(col(Delivery.state) == DeliveryState.SENDING.value, col(Delivery.claimed_at) < now - self.lease)
        if self.core.db.is_postgres:  # never wait for (or deadlock with) a live sender's rows
            expired = select(Delivery.id).where(stale).with_for_update(skip_locked=True)
            target: ColumnElement[bool] = col(Delivery.id).in_(expired.scalar_subquery())
        else:  # SQLite: a write first, so this transaction holds the write lock before it reads anything
            target = stale
        released = (
            await session.exec(
                update(Delivery)
                .where(target)
                .values(state=DeliveryState.PENDING.value, claimed_by=None)
                .returning(col(Delivery.id))
            )
        ).all()
        if released:
            log.warning("released %d deliveries whose sender stopped renewing its claim", len(released))

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
            return await port.post_to_channel(
                workspace.external_id, target["channel_id"], message, target.get("thread_id")
            )
        if kind == "update":
            ref = SentRef(conversation_id=target["conversation_id"], message_id=target["message_id"])
            await port.update_message(workspace.external_id, ref, message)
            return ref
        raise SendError(f"unknown delivery target {target!r}", retryable=False)

    async def _record_failure(self, session: AsyncSession, delivery: Delivery, failed: _Failed, token: str) -> None:
        values: dict[str, Any] = {"last_error": str(failed.error)[:2000], "claimed_by": None}
        if failed.retry_at is None:
            values["state"] = DeliveryState.FAILED.value
            delivery.last_error = values["last_error"]
            self.given_up.append(delivery)
            if delivery.step == DAY_DIGEST:
                await digest_failed(session, delivery, values["last_error"])
            log.warning(
                "delivery %s failed for good after %d attempts: %s",
                delivery.idempotency_key,
                delivery.attempts,
                failed.error,
            )
        else:
            values["state"] = DeliveryState.PENDING.value
            values["next_attempt_at"] = failed.retry_at
        # only while the claim is still ours: if the lease was taken over, the new holder decides
        await session.exec(
            update(Delivery).where(col(Delivery.id) == delivery.id, col(Delivery.claimed_by) == token).values(**values)
        )

    async def _after_send(self, session: AsyncSession, delivery: Delivery, ref: SentRef) -> None:
        """Remember where things were said, so follow-ups go to the same place."""
        if delivery.match_id and delivery.target.get("kind") == "group" and delivery.step == "intro":
            await session.exec(
                update(Match).where(col(Match.id) == delivery.match_id).values(conversation_id=ref.conversation_id)
            )
        post_id = delivery.target.get("icebreaker_post_id")
        if post_id:
            await session.exec(
                update(IcebreakerPost).where(col(IcebreakerPost.id) == post_id).values(message_id=ref.message_id)
            )


class _BatchRun:
    """One claimed batch on its way out: its lanes, the outcomes not yet recorded, the recordings under way.

    Kept out of ``Dispatcher._deliver`` so sending a lane, counting starts and flushing are each small.
    """

    def __init__(
        self, dispatcher: Dispatcher, batch: list[tuple[Delivery, Workspace]], token: str, nearly: asyncio.Event | None
    ) -> None:
        self.dispatcher = dispatcher
        self.token = token
        self.nearly = nearly
        self.size = len(batch)
        self.lanes: dict[str, list[tuple[Delivery, Workspace]]] = {}
        for delivery, workspace in batch:
            self.lanes.setdefault(_lane(delivery), []).append((delivery, workspace))
        self.loop = asyncio.get_running_loop()
        self.done: list[tuple[Delivery, Result]] = []
        self.records: list[asyncio.Task[int]] = []
        self.last_flush = self.loop.time()
        self.unstarted = len(batch)

    def flush(self) -> None:
        """Hand the outcomes gathered so far to a recording task, so sending goes on meanwhile."""
        self.last_flush = self.loop.time()
        if self.done:
            self.records.append(self.loop.create_task(self.dispatcher._record(self.done[:], self.token)))
            self.done.clear()

    def started(self) -> None:
        """Count one send as started; near the end, tell the caller to claim the next batch."""
        self.unstarted -= 1
        if self.nearly is not None and self.unstarted <= max(self.dispatcher.concurrency, self.size // 4):
            self.nearly.set()

    def _due_for_flush(self) -> bool:
        """Record every ``record_every`` outcomes or ``flush_seconds``, whichever comes first."""
        dispatcher = self.dispatcher
        return (
            len(self.done) >= dispatcher.record_every or self.loop.time() - self.last_flush >= dispatcher.flush_seconds
        )

    async def lane(self, key: str, items: list[tuple[Delivery, Workspace]]) -> None:
        """Send one conversation's messages in order, after any earlier batch still sending to it."""
        tails = self.dispatcher._tails
        before = tails.get(key)
        mine: asyncio.Future[_Deferred | None] = self.loop.create_future()
        tails[key] = mine
        blocked: _Deferred | None = None
        try:
            if before is not None:  # an earlier batch still sends to this conversation: keep the order
                blocked = await _outcome_of(before)
            for delivery, workspace in items:
                blocked = await self._send_one(delivery, workspace, blocked)
        finally:
            mine.set_result(blocked)
            if tails.get(key) is mine:
                del tails[key]

    async def _send_one(self, delivery: Delivery, workspace: Workspace, blocked: _Deferred | None) -> _Deferred | None:
        """Send (or, behind a failure, defer) one delivery; returns what blocks the rest of its lane."""
        self.started()
        if blocked is not None:
            self.done.append((delivery, blocked))
            return blocked
        dispatcher = self.dispatcher
        check_alive(dispatcher.core.instance_id)  # heartbeat.py: a server about to be thought dead stops
        outcome = await dispatcher._attempt(delivery, workspace, dispatcher._gate)
        result: Result
        if isinstance(outcome, SendError):
            result = dispatcher._verdict(delivery, outcome)
            blocked = _Deferred(result.retry_at)
        else:
            result = outcome
        self.done.append((delivery, result))
        if self._due_for_flush():
            self.flush()
        return blocked


async def _outcome_of(before: asyncio.Future[_Deferred | None]) -> _Deferred | None:
    """Wait for an earlier sender to the same conversation; what held it up holds this lane up too."""
    await asyncio.wait([before])
    return before.result() if not before.cancelled() and not before.exception() else None
