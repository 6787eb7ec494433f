"""What admins see of delivery: a round's progress, what pacing holds back, and the messages that finally
failed, with their error.

A delivery that fails for good is kept (state ``failed``, ``last_error``) rather than dropped, so it shows
up here, in `status` and in the home view, instead of disappearing silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.failures import hint_for
from storage.enums import DeliveryState, HoldReason
from storage.tables import Delivery, Program, Round

ERROR_CHARS = 160


@dataclass(frozen=True)
class Failure:
    """One delivery that gave up: what it was, to whom, and why."""

    delivery_id: int
    step: str
    recipient: str
    error: str
    attempts: int
    at: datetime | None

    def line(self) -> str:
        return f"{self.step} to {self.recipient} after {self.attempts} attempt(s): {self.error}"


@dataclass(frozen=True)
class RoundProgress:
    """How far the latest round's messages have got."""

    number: int
    sent: int = 0
    waiting: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.waiting + self.failed

    def line(self) -> str:
        share = f"{self.sent / self.total:.0%}" if self.total else "nothing to send"
        return (
            f"round {self.number}: {self.sent}/{self.total} delivered ({share}), "
            f"{self.waiting} waiting, {self.failed} failed"
        )


def _recipient(target: dict) -> str:
    kind = target.get("kind")
    if kind == "user":
        return str(target.get("user_id"))
    if kind == "group":
        return "group " + ", ".join(str(u) for u in target.get("user_ids", []))
    if kind == "channel":
        return f"#{target.get('channel_id')}"
    return str(kind)


def _short(error: str | None) -> str:
    text = " ".join((error or "unknown error").split())
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


async def recent_failures(
    session: AsyncSession, *, workspace_id: int | None = None, program_ids: list[int] | None = None, limit: int = 5
) -> list[Failure]:
    """The latest deliveries that failed for good, newest first (per workspace or per programs)."""
    query = select(Delivery).where(Delivery.state == DeliveryState.FAILED.value)
    if workspace_id is not None:
        query = query.where(Delivery.workspace_id == workspace_id)
    if program_ids is not None:
        query = query.where(col(Delivery.program_id).in_(program_ids))
    rows = (await session.exec(query.order_by(col(Delivery.id).desc()).limit(limit))).all()
    return [
        Failure(
            delivery_id=d.id or 0,
            step=d.step,
            recipient=_recipient(d.target),
            error=_short(d.last_error),
            attempts=d.attempts,
            at=d.claimed_at or d.created_at,
        )
        for d in rows
    ]


async def round_progress(session: AsyncSession, program: Program) -> RoundProgress | None:
    """Delivery counts of the program's latest round (intros and everything tied to it), or None."""
    rnd = (
        await session.exec(select(Round).where(Round.program_id == program.id).order_by(col(Round.number).desc()))
    ).first()
    if rnd is None:
        return None
    counts = dict(
        (
            await session.exec(
                select(Delivery.state, func.count()).where(Delivery.round_id == rnd.id).group_by(Delivery.state)
            )
        ).all()
    )
    waiting = sum(counts.get(s.value, 0) for s in (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.BUNDLED))
    return RoundProgress(
        number=rnd.number,
        sent=counts.get(DeliveryState.SENT.value, 0),
        waiting=waiting,
        failed=counts.get(DeliveryState.FAILED.value, 0),
    )


@dataclass(frozen=True)
class Held:
    """Messages pacing held back (bot/delivery/pacing.py): for quiet hours, for the weekly cap, or dropped."""

    quiet_hours: int = 0
    weekly_cap: int = 0
    dropped: int = 0
    dropped_steps: tuple[str, ...] = ()

    def line(self, program: str) -> str | None:
        if not (self.quiet_hours or self.weekly_cap or self.dropped):
            return None
        parts = [
            f"{self.quiet_hours} held for their readers' quiet hours",
            f"{self.weekly_cap} waiting for room under the weekly cap",
        ]
        if self.dropped:
            parts.append(f"{self.dropped} dropped over the weekly cap ({', '.join(self.dropped_steps)})")
        return f"⏸ {program}: " + ", ".join(parts)


async def held(session: AsyncSession, program: Program) -> Held:
    """What is held now, and what the weekly cap dropped, for one program."""
    rows = (
        await session.exec(
            select(Delivery.state, Delivery.held_reason, Delivery.step, func.count())
            .where(Delivery.program_id == program.id, col(Delivery.held_reason).is_not(None))
            .where(col(Delivery.state).in_([DeliveryState.PENDING.value, DeliveryState.CANCELLED.value]))
            .group_by(col(Delivery.state), col(Delivery.held_reason), col(Delivery.step))
        )
    ).all()
    counts: dict[str, int] = {}
    dropped: set[str] = set()
    for state, reason, step, count in rows:
        if state == DeliveryState.CANCELLED.value and reason != HoldReason.DROPPED_CAP.value:
            continue  # held once, then cancelled for another reason (someone left, say)
        counts[reason or ""] = counts.get(reason or "", 0) + count
        if reason == HoldReason.DROPPED_CAP.value:
            dropped.add(step)
    return Held(
        quiet_hours=counts.get(HoldReason.QUIET_HOURS.value, 0),
        weekly_cap=counts.get(HoldReason.WEEKLY_CAP.value, 0),
        dropped=counts.get(HoldReason.DROPPED_CAP.value, 0),
        dropped_steps=tuple(sorted(dropped)),
    )


async def admin_delivery_lines(session: AsyncSession, programs: list[Program], limit: int = 5) -> list[str]:
    """Lines for `status` and the home view: each program's round progress, then the latest failures."""
    lines = []
    for program in programs:
        progress = await round_progress(session, program)
        if progress is not None:
            lines.append(f"📬 {program.name}: {progress.line()}")
        held_line = (await held(session, program)).line(program.name)
        if held_line:
            lines.append(held_line)
    failures = await recent_failures(session, program_ids=[p.id for p in programs if p.id is not None], limit=limit)
    if failures:
        lines.append(f"⚠️ Last {len(failures)} failed deliveries:")
        lines += [f"• {f.line()}" for f in failures]
        channel_failed = any(f.recipient.startswith("#") for f in failures)
        lines.append(f"👉 {hint_for([f.error for f in failures], channel_failed=channel_failed)}")
    return lines
