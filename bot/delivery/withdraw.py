"""Taking back what is still waiting in the outbox for someone who asked to be forgotten.

Nothing already queued may reach them afterwards: their own messages are cancelled, and a group message
they were part of goes to the others only (as a direct message when one person is left). Kept apart from
bot/delivery/outbox.py, which only sends.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, cast
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import to_group, to_user
from bot.kernel.messages import Message
from storage.enums import DeliveryState
from storage.tables import Delivery

ERASED = Message(summary="(erased at the person's request)").model_dump(mode="json")
_WAITING = (DeliveryState.PENDING.value, DeliveryState.BUNDLED.value)  # bundled: a part of a digest


def _without(target: dict[str, Any], platform_user_id: str) -> dict[str, Any] | None:
    """The target with the person taken out; None when nobody else is left in it."""
    if target.get("kind") == "user":
        return None if target.get("user_id") == platform_user_id else target
    if target.get("kind") == "group":
        others = [u for u in target.get("user_ids", []) if u != platform_user_id]
        if len(others) == len(target.get("user_ids", [])):
            return target
        if not others:
            return None
        return to_user(others[0]) if len(others) == 1 else to_group(others)
    return target


def _addressed_to(delivery: Delivery, platform_user_id: str) -> bool:
    target = delivery.target
    return target.get("user_id") == platform_user_id or platform_user_id in target.get("user_ids", ())


async def withdraw_deliveries(session: AsyncSession, workspace_id: int, platform_user_id: str) -> int:
    """Cancel or narrow every unsent message to this person; blank the messages they were sent alone.

    Returns how many waiting messages were cancelled. One already in a sender's hands (``sending``) may
    still arrive: a platform call can't be recalled, and that sender records it as sent.
    """
    mentioned = cast(col(Delivery.target), Text).contains(json.dumps(platform_user_id)[1:-1], autoescape=True)
    rows = (await session.exec(select(Delivery).where(Delivery.workspace_id == workspace_id, mentioned))).all()
    cancelled = 0
    for delivery in rows:
        if not _addressed_to(delivery, platform_user_id):
            continue
        narrowed = _without(delivery.target, platform_user_id)
        if narrowed is None:
            delivery.message = ERASED  # their own DMs (e.g. a 'my data' file) hold nothing of theirs any more
            if delivery.state in _WAITING:
                delivery.state = DeliveryState.CANCELLED.value
                cancelled += 1
        elif delivery.state in _WAITING:
            delivery.target = narrowed
    await session.flush()
    return cancelled
