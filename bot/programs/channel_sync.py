"""Reaching the people already in a program's channel, in the background, on any platform.

A sync is a ledger row (``ChannelSync``). A worker claims it under a lease, asks the platform who is in
the channel (the port's optional ``channel_members``), stores that list, then works through it in batches.
Each batch commits the memberships, the messages (outbox keys per program and person) and the new
position together, so a worker that dies half-way is replaced by the next tick (on any server) once its
lease runs out, and it carries on from the last batch: nobody is reached twice, nobody is skipped. What
happens to each person is decided by the one rule in bot/programs/reach.py.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, enqueue
from bot.kernel.events import Actor
from bot.kernel.port import CHANNEL_MEMBERS, SendError, UserInfo
from bot.kernel.runtime import Runtime
from bot.programs.people import ensure_users
from bot.programs.reach import SYNC_STEP, Reach, reach_found
from storage.enums import DeliveryState, ProgramStatus, SyncState
from storage.tables import ChannelSync, Delivery, Program, User, Workspace

log = logging.getLogger("tandem.sync")

BATCH = 100  # people per transaction: a restart redoes at most this many, and nobody twice
LEASE = timedelta(minutes=10)  # a claim not renewed for this long is from a worker that died
SHOW_FINISHED = timedelta(days=7)  # how long status still shows a finished sync
HEARTBEAT = timedelta(minutes=2)  # how often a worker renews its claim while the platform lists a channel
OPEN = (SyncState.PENDING.value, SyncState.RUNNING.value)
CANT_SEE = "I can't see #{channel}: add me to the channel, then run `program sync`."
NO_LISTING = "This platform can't list a channel's members; people are reached as they join the channel."
# a failure's detail reads as its own sentence after "couldn't reach the people in #channel."


# --- asking for a sync -------------------------------------------------------------------------------------


async def open_sync(session: AsyncSession, program_id: int | None) -> ChannelSync | None:
    """The program's sync under way, if any."""
    return (
        await session.exec(
            select(ChannelSync)
            .where(ChannelSync.program_id == program_id, col(ChannelSync.state).in_(OPEN))
            .order_by(col(ChannelSync.id))
        )
    ).first()


async def latest_sync(session: AsyncSession, program_id: int | None) -> ChannelSync | None:
    return (
        await session.exec(
            select(ChannelSync).where(ChannelSync.program_id == program_id).order_by(col(ChannelSync.id).desc())
        )
    ).first()


async def request_sync(
    session: AsyncSession, program: Program, user: User | None, now: datetime, reason: str
) -> tuple[ChannelSync, bool]:
    """Ask for a sync of the program's channel; returns it and whether it is new.

    A sync of the same channel already under way is returned as it is (asking twice changes nothing); one
    of a channel the program no longer runs on is stopped, and the new channel's sync takes over.
    """
    running = await open_sync(session, program.id)
    if running is not None and running.channel_id == program.channel_id:
        return running, False
    if running is not None:
        running.state, running.finished_at = SyncState.FAILED.value, now
        running.detail = f"Stopped: the program moved to #{program.channel_id}."
    sync = ChannelSync(
        program_id=program.id or 0,
        channel_id=program.channel_id,
        state=SyncState.PENDING.value,
        requested_by_user_id=user.id if user else None,
        reason=reason,
        created_at=now,
    )
    session.add(sync)
    await session.flush()
    return sync, True


# --- progress, for admins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncProgress:
    sync: ChannelSync
    sent: int  # messages of this program's syncs that went out
    waiting: int  # ... and that are still in the outbox

    def recent(self, now: datetime) -> bool:
        """Under way, or finished in the last week: what ``status`` still shows."""
        done = self.sync.finished_at
        return done is None or now - done < SHOW_FINISHED

    def line(self) -> str:
        s = self.sync
        where = f"#{s.channel_id}"
        if s.state == SyncState.PENDING.value:
            return f"checking who is in {where}…"
        if s.state == SyncState.FAILED.value:
            return f"couldn't reach the people in {where}. {s.detail or 'The platform refused.'}"
        counts = f"{s.invited} invited, {s.enrolled} enrolled, {s.unchanged} already in or asked"
        messages = f"{self.sent} of {self.sent + self.waiting} messages sent"
        if s.state == SyncState.DONE.value and not s.total:
            return f"nobody was in {where} yet; people hear about the program as they join"
        if s.state == SyncState.DONE.value:
            return f"reached all {s.total} people in {where}: {counts}; {messages}"
        return f"reaching the people in {where}: {s.position} of {s.total} done ({counts}); {messages}"


async def sync_progress(session: AsyncSession, program_id: int | None) -> SyncProgress | None:
    """The program's latest sync with how many of its messages went out, or None when it never had one."""
    sync = await latest_sync(session, program_id)
    if sync is None:
        return None
    rows = (
        await session.exec(
            select(Delivery.state, func.count())
            .where(Delivery.program_id == program_id, Delivery.step == SYNC_STEP)
            .group_by(col(Delivery.state))
        )
    ).all()
    counts = {state: int(n) for state, n in rows}
    waiting = counts.get(DeliveryState.PENDING.value, 0) + counts.get(DeliveryState.SENDING.value, 0)
    return SyncProgress(sync=sync, sent=counts.get(DeliveryState.SENT.value, 0), waiting=waiting)


# --- the worker --------------------------------------------------------------------------------------------


async def run_channel_syncs(core: Runtime, *, max_batches: int | None = None) -> int:
    """Work on every open sync this worker can claim; returns how many batches ran.

    ``max_batches`` stops after that many batches without letting go of the claim: what a worker that
    dies looks like to the others (tests use it to stop half-way).
    """
    async with core.db.session() as session:
        ids = list(
            (
                await session.exec(
                    select(ChannelSync.id).where(col(ChannelSync.state).in_(OPEN)).order_by(col(ChannelSync.id))
                )
            ).all()
        )
    ran = 0
    for sync_id in ids:
        if sync_id is None or not await _claim(core, sync_id):
            continue
        if not await _members_known(core, sync_id):
            continue
        while max_batches is None or ran < max_batches:
            more = await _batch(core, sync_id)
            ran += 1
            core.wakeup.set()  # the batch's messages can go out while the next one is worked on
            if not more:
                break
        else:
            return ran
    return ran


def _claimant(core: Runtime) -> str:
    return core.instance_id


async def _claim(core: Runtime, sync_id: int) -> bool:
    """Take the sync unless another worker's lease on it is still fresh."""
    now = core.clock.now()
    async with core.db.transaction() as session:
        result = await session.exec(
            update(ChannelSync)
            .where(
                col(ChannelSync.id) == sync_id,
                col(ChannelSync.state).in_(OPEN),
                or_(
                    col(ChannelSync.claimed_by).is_(None),
                    col(ChannelSync.claimed_by) == _claimant(core),
                    col(ChannelSync.claimed_at) < now - LEASE,
                ),
            )
            .values(claimed_by=_claimant(core), claimed_at=now)
        )
        return bool(result.rowcount)


async def _members_known(core: Runtime, sync_id: int) -> bool:
    """Make sure the sync has the channel's member list (asking the platform once); False: not now."""
    async with core.db.session() as session:
        sync = await session.get(ChannelSync, sync_id)
        assert sync is not None
        if sync.members is not None:
            return True
        program = await session.get(Program, sync.program_id)
        assert program is not None
        workspace = await session.get(Workspace, program.workspace_id)
        assert workspace is not None
        known = frozenset(
            (
                await session.exec(
                    select(User.platform_user_id).where(User.workspace_id == workspace.id, col(User.is_bot).is_(False))
                )
            ).all()
        )
        platform, external_id, channel = workspace.platform, workspace.external_id, sync.channel_id
    lister = getattr(core.ports.get(platform), CHANNEL_MEMBERS, None)
    if lister is None:
        await _finish(core, sync_id, SyncState.FAILED, NO_LISTING)
        return False
    heartbeat = asyncio.create_task(_keep_claim(core, sync_id))
    try:
        people: list[UserInfo] = await lister(external_id, channel, known)
    except SendError as exc:
        log.warning("channel sync %s: listing %s failed: %s", sync_id, channel, exc)
        if exc.gone:
            await _finish(core, sync_id, SyncState.FAILED, CANT_SEE.format(channel=channel))
            return False
        if not exc.retryable:
            await _finish(core, sync_id, SyncState.FAILED, f"The platform said: {exc}.")
            return False
        await _release(core, sync_id, f"will try again: {exc}")
        return False
    except Exception as exc:  # noqa: BLE001 - an adapter's surprise must not stop the scheduler's tick
        log.warning("channel sync %s: listing %s failed unexpectedly: %r", sync_id, channel, exc)
        await _release(core, sync_id, "will try again")
        return False
    finally:
        heartbeat.cancel()
    return await _store_members(core, sync_id, people)


async def _keep_claim(core: Runtime, sync_id: int) -> None:
    """Renew the lease while a long listing runs (Slack paces users.info at 100 a minute), so no other
    worker takes the sync over meanwhile."""
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        async with core.db.transaction() as session:
            await session.exec(
                update(ChannelSync)
                .where(col(ChannelSync.id) == sync_id, col(ChannelSync.claimed_by) == _claimant(core))
                .values(claimed_at=core.clock.now())
            )


def _member_row(person: UserInfo) -> dict[str, Any]:
    return {"id": person.user_id, "name": person.name, "email": person.email, "tz": person.timezone}


async def _store_members(core: Runtime, sync_id: int, people: list[UserInfo]) -> bool:
    """Keep the list (once: a worker that lost its claim meanwhile keeps nothing); False when it lost."""
    unique = list({p.user_id: p for p in people if p.user_id}.values())
    async with core.db.transaction() as session:
        sync = await session.get(ChannelSync, sync_id)
        if sync is None or sync.members is not None or sync.claimed_by != _claimant(core):
            return False
        sync.members = [_member_row(p) for p in unique]
        sync.total, sync.position = len(unique), 0
        sync.state, sync.started_at, sync.claimed_at = SyncState.RUNNING.value, core.clock.now(), core.clock.now()
        sync.detail = None
    log.info("channel sync %s: %d people in #%s", sync_id, len(unique), sync.channel_id)
    return True


async def _release(core: Runtime, sync_id: int, detail: str) -> None:
    """Let go of a sync that can't go on now; the next tick tries again."""
    async with core.db.transaction() as session:
        sync = await session.get(ChannelSync, sync_id)
        if sync is not None:
            sync.claimed_by, sync.claimed_at, sync.detail = None, None, detail


async def _finish(core: Runtime, sync_id: int, state: SyncState, detail: str | None = None) -> None:
    async with core.db.transaction() as session:
        sync = await session.get(ChannelSync, sync_id)
        if sync is not None:
            sync.state, sync.finished_at, sync.detail = state.value, core.clock.now(), detail


async def _batch(core: Runtime, sync_id: int) -> bool:
    """Reach the next batch of people, all in one transaction; returns whether more are left."""
    now = core.clock.now()
    async with core.db.transaction() as session:
        sync = await session.get(ChannelSync, sync_id)
        if sync is None or sync.state != SyncState.RUNNING.value or sync.claimed_by != _claimant(core):
            return False  # finished meanwhile, or another worker took it over
        program = await session.get(Program, sync.program_id)
        if program is None or program.status == ProgramStatus.ARCHIVED.value or program.channel_id != sync.channel_id:
            sync.state, sync.finished_at = SyncState.FAILED.value, now
            sync.detail = "Stopped: the program was archived or moved to another channel."
            return False
        workspace = await session.get(Workspace, program.workspace_id)
        assert workspace is not None
        chunk = (sync.members or [])[sync.position : sync.position + BATCH]
        items = await _reach_all(session, sync, program, workspace, chunk, now)
        await enqueue(session, workspace.id or 0, items, now)
        sync.position += len(chunk)
        sync.claimed_at = now
        if sync.position >= sync.total:
            sync.state, sync.finished_at = SyncState.DONE.value, now
            log.info("channel sync %s done: %d invited, %d enrolled", sync_id, sync.invited, sync.enrolled)
        return sync.state == SyncState.RUNNING.value


async def _reach_all(
    session: AsyncSession,
    sync: ChannelSync,
    program: Program,
    workspace: Workspace,
    chunk: list[dict[str, Any]],
    now: datetime,
) -> list[Outgoing]:
    actors = [
        Actor(
            platform=workspace.platform,
            workspace_id=workspace.external_id,
            user_id=str(row["id"]),
            name=row.get("name") or None,
            email=row.get("email"),
            timezone=row.get("tz"),
        )
        for row in chunk
    ]
    users = await ensure_users(session, workspace, actors, now)
    actions, items = await reach_found(session, program, users, now)
    sync.enrolled += actions.count(Reach.ENROL)
    sync.invited += actions.count(Reach.INVITE)
    sync.unchanged += actions.count(None)
    return items
