"""Buttons that no longer apply are closed: once a chat is booked, earlier messages lose their booking buttons.

The intro's "Propose option N", a proposal's Accept / Can't make it, a re-offer or a nudge stay in people's
chats; once the chat is booked, clicking them could only be answered "already booked". Each such message that
went out (the outbox recorded where: conversation and platform message id) is replaced by a copy without those
buttons, through the outbox's ``update`` deliveries (Slack chat.update, Teams update activity). Other buttons
on it (a group-chat link, "Agree how you'll work") stay. A message still waiting to be sent is left alone: its
buttons answer "already booked".
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.booking.offers import ACCEPT, DECLINE, PROPOSE
from bot.delivery.outbox import Outgoing, enqueue, to_update
from bot.kernel.events import SentRef
from bot.kernel.messages import Actions, Context, Message, Text
from bot.kernel.runtime import Runtime
from storage.enums import DeliveryState
from storage.tables import Delivery, Meeting

BOOKING_ACTIONS = frozenset({PROPOSE.action_id, ACCEPT.action_id, DECLINE.action_id})
CLOSE_STEP = "close_buttons"
BOOKED_NOTE = "✅ All set: the chat was booked (see the confirmation), so these buttons are closed."


def has_booking_buttons(message: Message) -> bool:
    return any(
        getattr(element, "action_id", None) in BOOKING_ACTIONS
        for block in message.blocks
        if isinstance(block, Actions)
        for element in block.elements
    )


def without_booking_buttons(message: Message, note: str = BOOKED_NOTE) -> Message:
    """The same message, its booking buttons gone (other buttons kept), with a line saying why."""
    blocks: list = []
    for block in message.blocks:
        if isinstance(block, Actions):
            kept = tuple(e for e in block.elements if getattr(e, "action_id", None) not in BOOKING_ACTIONS)
            if kept:
                blocks.append(Actions(elements=kept))
            continue
        blocks.append(block)
    blocks.append(Context(text=Text.of(note)))
    return message.model_copy(update={"blocks": tuple(blocks), "files": ()})


async def close_booking_buttons(core: Runtime, session: AsyncSession, meeting: Meeting, workspace_id: int) -> int:
    """Queue an update for every sent message of the meeting's match that still shows booking buttons."""
    sent = (
        await session.exec(
            select(Delivery)
            .where(
                Delivery.match_id == meeting.match_id,
                Delivery.state == DeliveryState.SENT.value,
                col(Delivery.platform_message_id).is_not(None),
                Delivery.step != CLOSE_STEP,
            )
            .order_by(col(Delivery.id))
        )
    ).all()
    items = []
    for delivery in sent:
        message = Message.model_validate(delivery.message)
        if not delivery.conversation_id or not delivery.platform_message_id or not has_booking_buttons(message):
            continue
        ref = SentRef(conversation_id=delivery.conversation_id, message_id=delivery.platform_message_id)
        items.append(
            Outgoing(
                key=f"{CLOSE_STEP}:{delivery.id}",  # a message is closed once, whatever is booked later
                step=CLOSE_STEP,
                target=to_update(ref),
                message=without_booking_buttons(message),
                program_id=delivery.program_id,
                match_id=delivery.match_id,
            )
        )
    return await enqueue(session, workspace_id, items, core.clock.now())
