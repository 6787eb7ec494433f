"""What admins see of delivery: a round's progress and the messages that finally failed, with their error.

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
from storage.enums import DeliveryState
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
    waiting = counts.get(DeliveryState.PENDING.value, 0) + counts.get(DeliveryState.SENDING.value, 0)
    return RoundProgress(
        number=rnd.number,
        sent=counts.get(DeliveryState.SENT.value, 0),
        waiting=waiting,
        failed=counts.get(DeliveryState.FAILED.value, 0),
    )


async def admin_delivery_lines(session: AsyncSession, programs: list[Program], limit: int = 5) -> list[str]:
    """Lines for `status` and the home view: each program's round progress, then the latest failures."""
    lines = []
    for program in programs:
        progress = await round_progress(session, program)
        if progress is not None:
            lines.append(f"📬 {program.name}: {progress.line()}")
    failures = await recent_failures(session, program_ids=[p.id for p in programs if p.id is not None], limit=limit)
    if failures:
        lines.append(f"⚠️ Last {len(failures)} failed deliveries:")
        lines += [f"• {f.line()}" for f in failures]
        channel_failed = any(f.recipient.startswith("#") for f in failures)
        lines.append(f"👉 {hint_for([f.error for f in failures], channel_failed=channel_failed)}")
    return lines
