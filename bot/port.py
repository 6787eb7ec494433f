"""The one small interface through which the core talks to a chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.events import SentRef
from bot.messages import Message


class SendError(Exception):
    """A send failed. ``retryable`` failures are tried again later; ``gone`` means stop writing there."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None,
                 gone: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable and not gone
        self.retry_after = retry_after
        self.gone = gone


@dataclass(frozen=True)
class PlatformCapabilities:
    """What the platform can do, so the core can pick the right way to say something."""

    group_conversations: bool = True  # can the bot open a group chat with several people?
    threads: bool = True
    reactions: bool = True


@runtime_checkable
class ChatPort(Protocol):
    """Implemented by each adapter. Every method raises ``SendError`` on failure."""

    capabilities: PlatformCapabilities

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        """Direct message to one person."""
        ...

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        """Message a group of people in one conversation (opens it if needed)."""
        ...

    async def post_to_channel(self, workspace_id: str, channel_id: str, message: Message,
                              thread_id: str | None = None) -> SentRef:
        """Post in a channel, or in a thread of it."""
        ...

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        """Replace a message sent earlier."""
        ...
