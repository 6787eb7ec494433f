"""The one small interface through which the core talks to a chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.kernel.events import SentRef
from bot.kernel.messages import Message


class SendError(Exception):
    """A send failed. ``retryable`` failures are tried again later; ``gone`` means stop writing there."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None, gone: bool = False
    ) -> None:
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


@dataclass(frozen=True)
class UserInfo:
    """What a platform's directory says about a person (used to resolve e-mails on import)."""

    user_id: str  # the platform's user id
    name: str = ""
    email: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ThreadReply:
    """An answer someone wrote in a thread, with how many reactions it got (0 where there are none)."""

    user_id: str  # the platform's user id
    text: str
    reactions: int = 0
    permalink: str | None = None


@runtime_checkable
class ChatPort(Protocol):
    """Implemented by each adapter. Every method raises ``SendError`` on failure.

    Optional capabilities (the core checks with ``getattr`` and works without them):

    ``async def top_replies(self, workspace_id: str, channel_id: str, thread_id: str, limit: int)
    -> list[ThreadReply]``
        The best-loved human replies in a thread, most reactions first (ties: earliest first), at most
        ``limit``; bot replies excluded. Used to link last week's favourite icebreaker answers. Slack: read
        ``conversations.replies`` (reactions come with each message). Platforms without readable threads or
        reactions (Teams) simply don't define it, and the core shows no highlight.
    """

    capabilities: PlatformCapabilities

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        """Direct message to one person."""
        ...

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        """Message a group of people in one conversation (opens it if needed)."""
        ...

    async def post_to_channel(
        self, workspace_id: str, channel_id: str, message: Message, thread_id: str | None = None
    ) -> SentRef:
        """Post in a channel, or in a thread of it."""
        ...

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        """Replace a message sent earlier."""
        ...


# --- optional methods -----------------------------------------------------------------------------------
#
# Adapters MAY also implement these; the core checks with ``getattr`` and falls back when one is missing.
#
#     async def lookup_user_by_email(self, workspace_id: str, email: str) -> UserInfo | None
#         Find a person in the platform's directory by e-mail (Slack users.lookupByEmail, Graph for Teams).
#         Return None when nobody has that address; raise SendError when the platform can't be asked.
#         Used by participant imports (bot/importing.py); without it, e-mails resolve against people the
#         bot already knows in the database.

#
#     async def channel_members(self, workspace_id: str, channel_id: str, known: frozenset[str]) -> list[UserInfo]
#         Who is in this channel now: people only (bots and deactivated accounts left out), each once. Ids in
#         ``known`` are people the core already has on record: the adapter may skip looking up their details
#         (Slack: users.info only for the others). Raise SendError when the platform can't be asked (a
#         retryable one is tried again later). Used to reach the people already in a program's channel
#         (bot/programs/channel_sync.py); without it, people are reached as they join.
#
#     async def channel_name(self, workspace_id: str, channel_id: str) -> str | None
#         The channel's name as people see it (without '#'), or None when the platform does not say. Asked
#         once, when a program is created without a name (bot/programs/naming.py), so no program is ever
#         called by a platform id such as "19:…@thread.tacv2". Slack: conversations.info; Teams: the
#         team's channel list (the General channel has no name there: "General").

LOOKUP_BY_EMAIL = "lookup_user_by_email"
CHANNEL_MEMBERS = "channel_members"
CHANNEL_NAME = "channel_name"
