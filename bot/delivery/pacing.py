"""Pacing: before the sender claims anything, hold what can wait for the reader's day, respect the weekly
cap, and bundle a person's due messages into one digest.

Runs at the start of every sender pass (``Dispatcher.run_once``), in one transaction, on deliveries that
are due and were never attempted. Per person (``user`` targets):

* outside their day (bot/delivery/quiet.py) everything that can wait moves to the start of their next
  day, keeping its order;
* unprompted messages (bot/delivery/urgency.py) reach a person at most once a day and at most
  ``Program.weekly_cap`` times a week (their local week); what does not fit waits for their next day or
  week, or, for what would be stale by then, is dropped (state ``cancelled``, ``held_reason`` says why);
* two or more due messages become one digest (bot/delivery/digest.py), which counts once.

Group conversations wait for a time inside every member's day and count for each member; channel posts
and ``NOW`` messages are never touched. Admins see all of it in bot/delivery/report.py.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.digest import MAX_BLOCKS, Contended, bundle, packs, size
from bot.delivery.quiet import Day, common_start
from bot.delivery.urgency import DAY_DIGEST, NOW_STEPS, Urgency, droppable, priority, urgency
from bot.kernel.runtime import Runtime
from storage.enums import DeliveryState, HoldReason
from storage.tables import Delivery, Program, User

log = logging.getLogger("tandem.pacing")

PACE_LIMIT = 1000  # due deliveries looked at per pass; the rest wait for the next one
DEFAULT_CAP = 4
MAX_WAIT = timedelta(weeks=3)  # an unprompted message still not sent after this long is dropped


def recipients(target: Mapping[str, Any]) -> list[str]:
    """The people a delivery reaches (none for channel posts and updates)."""
    if target.get("kind") == "user":
        return [str(target.get("user_id"))]
    if target.get("kind") == "group":
        return [str(u) for u in target.get("user_ids", [])]
    return []


@dataclass
class _Ledger:
    """When each person last got unprompted messages (their counted deliveries of the last eight days)."""

    days: dict[tuple[int, str], Day]
    caps: dict[int, int]
    counted: dict[tuple[int, str], list[datetime]] = field(default_factory=lambda: defaultdict(list))

    def day(self, workspace_id: int, user_id: str) -> Day:
        return self.days.get((workspace_id, user_id)) or Day()

    def cap(self, delivery: Delivery) -> int:
        return self.caps.get(delivery.program_id or 0, DEFAULT_CAP)

    def free_at(self, workspace_id: int, user_id: str, now: datetime, cap: int) -> datetime | None:
        """None when this person may get an unprompted message now; else when they next may."""
        day = self.day(workspace_id, user_id)
        got = self.counted[(workspace_id, user_id)]
        today = day.local_date(now)
        if any(day.local_date(at) == today for at in got):
            return day.next_day(now)
        week = day.week_start(now)
        if sum(at >= week for at in got) >= cap:
            return day.next_week(now)
        return None

    def count(self, workspace_id: int, user_ids: list[str], now: datetime) -> None:
        for user_id in user_ids:
            self.counted[(workspace_id, user_id)].append(now)


async def pace_due(core: Runtime, now: datetime) -> None:
    """One pacing pass over what is due now (see the module docstring). Safe to run from many senders.

    Goes through the due deliveries in chunks of ``PACE_LIMIT`` by id, one short transaction each.
    """
    after: int | None = 0
    while after is not None:
        try:
            async with core.db.transaction() as session:
                after = await _pace(session, core, now, after)
        except Contended:
            log.info("another sender bundled the same messages first; pacing again next pass")
            return


def unpaced(paced_at: datetime) -> ColumnElement[bool]:
    """Deliveries written after a pacing pass began: the sender leaves them for its next pass."""
    return and_(
        col(Delivery.created_at).is_not(None),  # NULL would make the negation NULL, and the row unclaimable
        col(Delivery.created_at) > paced_at,
        col(Delivery.attempts) == 0,
        col(Delivery.step).not_in(NOW_STEPS),
    )


async def _pace(session: AsyncSession, core: Runtime, now: datetime, after: int) -> int | None:
    """Pace one chunk; returns the last id looked at, or None when this was the last chunk."""
    query = (
        select(Delivery)
        .where(Delivery.state == DeliveryState.PENDING.value, Delivery.attempts == 0, col(Delivery.id) > after)
        .where(or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now))
        .where(col(Delivery.step).not_in([*NOW_STEPS, DAY_DIGEST]))
        .order_by(col(Delivery.id))
        .limit(PACE_LIMIT)
    )
    if core.db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.exec(query)).all())
    last = rows[-1].id if len(rows) == PACE_LIMIT else None
    due = [d for d in rows if recipients(d.target)]
    if due:
        await _pace_chunk(session, core, due, now)
    return last


async def _pace_chunk(session: AsyncSession, core: Runtime, due: list[Delivery], now: datetime) -> None:
    ledger = await _ledger(session, core, due, now)
    by_person: dict[tuple[int, str], list[Delivery]] = defaultdict(list)
    for delivery in due:
        if delivery.target.get("kind") == "user":
            by_person[(delivery.workspace_id, recipients(delivery.target)[0])].append(delivery)
        else:
            await _pace_group(session, ledger, delivery, now)
    for (workspace_id, user_id), items in by_person.items():
        await _pace_person(session, ledger, workspace_id, user_id, items, now)


async def _ledger(session: AsyncSession, core: Runtime, due: list[Delivery], now: datetime) -> _Ledger:
    """Everyone's day, every program's cap, and who was counted lately, for the people in ``due``."""
    people = {(d.workspace_id, u) for d in due for u in recipients(d.target)}
    program_ids = sorted({d.program_id for d in due if d.program_id})
    programs = (await session.exec(select(Program).where(col(Program.id).in_(program_ids)))).all()
    ledger = _Ledger(days=await _days(session, core, people), caps={p.id or 0: p.weekly_cap for p in programs})
    counted = await session.exec(
        select(Delivery.workspace_id, Delivery.target, Delivery.counted_at).where(
            col(Delivery.workspace_id).in_(sorted({w for w, _ in people})),
            col(Delivery.counted_at) >= now - timedelta(days=8),
            col(Delivery.state).not_in([DeliveryState.FAILED.value, DeliveryState.CANCELLED.value]),
            # only rows that can name someone in ``due`` (a workspace's whole week would be read and parsed
            # on every pass otherwise); the loop below still checks each recipient
            or_(
                Delivery.target["kind"].as_string() == "group",
                Delivery.target["user_id"].as_string().in_(sorted({u for _, u in people})),
            ),
        )
    )
    for workspace_id, target, at in counted.all():
        for user_id in recipients(target):
            if (workspace_id, user_id) in people and at is not None:
                ledger.counted[(workspace_id, user_id)].append(at)
    return ledger


async def _days(session: AsyncSession, core: Runtime, people: set[tuple[int, str]]) -> dict[tuple[int, str], Day]:
    """Each person's day from their profile; someone Tandem has no row for gets the default day."""
    users = (
        await session.exec(
            select(User).where(
                col(User.workspace_id).in_(sorted({w for w, _ in people})),
                col(User.platform_user_id).in_(sorted({u for _, u in people})),
            )
        )
    ).all()
    fallback = Day.of(core.default_timezone, "08:00", "20:00", None)
    days = dict.fromkeys(people, fallback)
    for u in users:
        if (u.workspace_id, u.platform_user_id) in people:
            days[(u.workspace_id, u.platform_user_id)] = Day.of(u.timezone, u.day_start, u.day_end, u.weekend)
    return days


async def _hold(
    session: AsyncSession, items: list[Delivery], until: datetime, reason: HoldReason, now: datetime
) -> None:
    for delivery in items:
        delivery.next_attempt_at = until
        delivery.held_at = delivery.held_at or now
        delivery.held_reason = reason.value
        session.add(delivery)


async def _drop(session: AsyncSession, items: list[Delivery]) -> None:
    for delivery in items:
        delivery.state = DeliveryState.CANCELLED.value
        delivery.held_reason = HoldReason.DROPPED_CAP.value
        delivery.last_error = "Not sent: the reader's weekly limit of unprompted messages was reached."
        session.add(delivery)
    if items:
        log.info("dropped %d unprompted messages over their readers' weekly cap", len(items))


async def _not_now(session: AsyncSession, items: list[Delivery], free_at: datetime, now: datetime) -> None:
    """Unprompted messages with no room now: stale ones are dropped, the rest wait until there is room."""
    next_week = free_at - now > timedelta(days=1)
    stale = [d for d in items if (next_week and droppable(d.step)) or now - (d.created_at or now) > MAX_WAIT]
    await _drop(session, stale)
    await _hold(session, [d for d in items if d not in stale], free_at, HoldReason.WEEKLY_CAP, now)


async def _pace_person(
    session: AsyncSession, ledger: _Ledger, workspace_id: int, user_id: str, items: list[Delivery], now: datetime
) -> None:
    """One person's due messages: held for their day, at most one unprompted message a day, one digest."""
    day = ledger.day(workspace_id, user_id)
    if not day.contains(now):
        await _hold(session, items, day.next_start(now), HoldReason.QUIET_HOURS, now)
        return
    unprompted = [d for d in items if urgency(d.step) == Urgency.UNPROMPTED]
    fresh = await _room_for(session, ledger, workspace_id, user_id, unprompted, now)
    unprompted = [d for d in unprompted if d.counted_at is not None or d in fresh]
    later = _overflow(unprompted)
    if later:  # more than one message holds: the most important now, the rest tomorrow
        await _not_now(session, later, day.next_day(now), now)
    items = [d for d in items if (urgency(d.step) != Urgency.UNPROMPTED or d in unprompted) and d not in later]
    await _as_few_messages(session, items, now)
    if any(d not in later for d in fresh):
        ledger.count(workspace_id, [user_id], now)


async def _room_for(
    session: AsyncSession, ledger: _Ledger, workspace_id: int, user_id: str, unprompted: list[Delivery], now: datetime
) -> list[Delivery]:
    """The not yet counted unprompted messages that may go now: all of them, or none (they wait or drop)."""
    fresh = [d for d in unprompted if d.counted_at is None]
    if not fresh:
        return []
    free_at = ledger.free_at(workspace_id, user_id, now, min(ledger.cap(d) for d in fresh))
    if free_at is None:
        return fresh
    await _not_now(session, fresh, free_at, now)
    return []


def _overflow(unprompted: list[Delivery]) -> list[Delivery]:
    """The unprompted messages that do not fit in one digest, lowest priority first to go."""
    budget = MAX_BLOCKS - 1
    later: list[Delivery] = []
    for delivery in sorted(unprompted, key=lambda d: (-priority(d.step), d.id or 0)):
        budget -= size(delivery)
        if budget < 0 and len(later) < len(unprompted) - 1:
            later.append(delivery)
    return later


async def _as_few_messages(session: AsyncSession, items: list[Delivery], now: datetime) -> None:
    """Bundle what goes out now into digests (in the order it was written); unprompted content counts once."""
    ordered = sorted(items, key=lambda d: d.id or 0)
    for pack in packs(ordered) if len(ordered) > 1 else [ordered]:
        counted = any(urgency(d.step) == Urgency.UNPROMPTED for d in pack)  # fresh, or counted on an earlier pass
        if len(pack) > 1:
            await bundle(session, pack, now, counted=counted)
        elif pack and counted and pack[0].counted_at is None:
            pack[0].counted_at = now
            session.add(pack[0])


async def _pace_group(session: AsyncSession, ledger: _Ledger, delivery: Delivery, now: datetime) -> None:
    """A group conversation: at a time inside everyone's day; an unprompted one needs room for each member."""
    members = recipients(delivery.target)
    ws = delivery.workspace_id
    start = common_start([ledger.day(ws, u) for u in members], now)
    if start > now:
        await _hold(session, [delivery], start, HoldReason.QUIET_HOURS, now)
        return
    if urgency(delivery.step) != Urgency.UNPROMPTED or delivery.counted_at is not None:
        return
    waits = [w for u in members if (w := ledger.free_at(ws, u, now, ledger.cap(delivery))) is not None]
    if waits:
        await _not_now(session, [delivery], max(waits), now)
        return
    delivery.counted_at = now
    session.add(delivery)
    ledger.count(ws, members, now)
