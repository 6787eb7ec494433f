"""The day's digest: several messages that can wait, for one person, sent as one message.

Each part keeps its own blocks, so its buttons work as before (button values are self-contained). The
parts stay in the outbox as rows of their own (state ``bundled``, ``digest_id`` set) and are marked sent
in the same transaction that records the digest as sent, so a crash, a retry or a second server never
sends a part twice. When a click on a part answers by replacing the message, only that part is replaced
(:func:`splice`): the rest of the digest stays as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.urgency import DAY_DIGEST
from bot.kernel.events import ActionEvent, Reply, Response, SentRef
from bot.kernel.messages import Actions, Block, Button, Choice, Divider, Message, Section, Text
from storage.enums import DeliveryState
from storage.tables import Delivery
from storage.upsert import insert_ignore

MAX_BLOCKS = 40  # Slack takes 50 blocks a message; Teams cards have a size limit too
SUMMARY_CHARS = 150


class Contended(Exception):
    """Another sender bundled some of these parts first: this pass rolls back and looks again."""


def _part_blocks(message: Message) -> tuple[Block, ...]:
    return message.blocks or (Section(text=Text.of(message.summary)),)


def digest_message(parts: list[Message]) -> Message:
    """One message carrying every part in order, each after a divider, under a short heading."""
    heading = Section(text=Text.of(f"**Here's your update** · {len(parts)} things for today"))
    blocks: list[Block] = [heading]
    for part in parts:
        blocks += [Divider(), *_part_blocks(part)]
    summary = " · ".join(p.summary for p in parts)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return Message(summary=summary, blocks=tuple(blocks))


def size(part: Delivery) -> int:
    """Blocks a part takes in a digest (its divider included)."""
    return len(_part_blocks(Message.model_validate(part.message))) + 1


def packs(parts: list[Delivery]) -> list[list[Delivery]]:
    """Split into digests that fit a platform message; a part with files always goes on its own."""
    result: list[list[Delivery]] = []
    current: list[Delivery] = []
    size = 1
    for part in parts:
        message = Message.model_validate(part.message)
        if message.files:
            result.append([part])
            continue
        blocks = len(_part_blocks(message)) + 1
        if current and size + blocks > MAX_BLOCKS:
            result.append(current)
            current, size = [], 1
        current.append(part)
        size += blocks
    if current:
        result.append(current)
    return result


async def bundle(session: AsyncSession, parts: list[Delivery], now: datetime, *, counted: bool) -> int:
    """Write the digest of ``parts`` and take the parts out of the queue; returns the digest's id."""
    first = parts[0]
    key = f"{DAY_DIGEST}:{first.id}"
    message = digest_message([Message.model_validate(p.message) for p in parts])
    row: dict[str, Any] = {
        "idempotency_key": key,
        "workspace_id": first.workspace_id,
        "program_id": first.program_id,
        "step": DAY_DIGEST,
        "target": first.target,
        "message": message.model_dump(mode="json"),
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "counted_at": now if counted else None,
    }
    await insert_ignore(session, Delivery, [row], ["idempotency_key"])
    digest_id = (await session.exec(select(Delivery.id).where(Delivery.idempotency_key == key))).one()
    ids = [p.id for p in parts]
    taken = (
        await session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_(ids), col(Delivery.state) == DeliveryState.PENDING.value)
            .values(state=DeliveryState.BUNDLED.value, digest_id=digest_id, counted_at=None)
            .returning(col(Delivery.id))
        )
    ).all()
    if len(taken) != len(ids):
        raise Contended(key)
    return digest_id or 0


async def digest_sent(session: AsyncSession, digest: Delivery, ref: SentRef | None, now: datetime) -> None:
    """The digest went out: so did every part it carries (same transaction as the digest's own record)."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.digest_id) == digest.id, col(Delivery.state) == DeliveryState.BUNDLED.value)
        .values(
            state=DeliveryState.SENT.value,
            sent_at=now,
            conversation_id=ref.conversation_id if ref else None,
            platform_message_id=ref.message_id if ref else None,
        )
    )


async def digest_failed(session: AsyncSession, digest: Delivery, error: str) -> None:
    """The digest failed for good: so did its parts, which admins then see with the error."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.digest_id) == digest.id, col(Delivery.state) == DeliveryState.BUNDLED.value)
        .values(state=DeliveryState.FAILED.value, last_error=error)
    )


def _has_control(message: Message, action_id: str, value: str) -> bool:
    for block in message.blocks:
        if not isinstance(block, Actions):
            continue
        for element in block.elements:
            if isinstance(element, Button) and element.action_id == action_id and element.value == value:
                return True
            if isinstance(element, Choice) and element.action_id == action_id:
                if any(o.value == value for o in element.options):
                    return True
    return False


async def splice(session: AsyncSession, workspace_id: int | None, event: ActionEvent, response: Response) -> Response:
    """A click in a digest that replaces "the message" replaces only its own part; other answers pass through."""
    if not isinstance(response, Reply) or not response.replace_original or event.message is None:
        return response
    digest = (
        await session.exec(
            select(Delivery).where(
                Delivery.workspace_id == workspace_id,
                Delivery.platform_message_id == event.message.message_id,
                Delivery.step == DAY_DIGEST,
            )
        )
    ).first()
    if digest is None:
        return response
    parts = list(
        (await session.exec(select(Delivery).where(Delivery.digest_id == digest.id).order_by(col(Delivery.id)))).all()
    )
    messages = [Message.model_validate(p.message) for p in parts]
    clicked = next((i for i, m in enumerate(messages) if _has_control(m, event.action_id, event.value)), None)
    if clicked is None:
        return response
    parts[clicked].message = response.message.model_dump(mode="json")
    messages[clicked] = response.message
    whole = digest_message(messages)
    digest.message = whole.model_dump(mode="json")
    session.add_all([parts[clicked], digest])
    return Reply(message=whole, ephemeral=response.ephemeral, replace_original=True)
