"""The playground's port: the console port's transcript, plus the answers only one person saw, in order.

Every pane is drawn from ``feed``: what was delivered (direct messages, group chats, channel posts) and the
private answers to what someone typed or clicked, interleaved as they happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.console.port import ConsolePort, Sent
from bot.kernel.events import SentRef
from bot.kernel.messages import Message


@dataclass
class PlaygroundPort(ConsolePort):
    feed: list[Sent] = field(default_factory=list)
    private: dict[str, Sent] = field(default_factory=dict)  # message id → an answer only its person saw

    def _deliver(self, conversation: str, audience: tuple[str, ...], channel: str | None, message: Message) -> SentRef:
        ref = super()._deliver(conversation, audience, channel, message)
        self.feed.append(self.sent[-1])
        return ref

    def show_reply(self, user_id: str, message: Message) -> None:
        ref = SentRef(conversation_id=f"R-{user_id}", message_id=f"r{len(self.private) + 1}")
        answer = Sent(ref=ref, audience=(user_id,), channel=None, message=message, at=self.clock.now())
        self.private[ref.message_id] = answer
        self.feed.append(answer)

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        answer = self.private.get(ref.message_id)
        if answer is None:
            await super().update_message(workspace_id, ref, message)
        else:
            answer.message, answer.updated = message, True

    def find(self, message_id: str) -> Sent | None:
        """A message by its id, delivered or private."""
        return self.private.get(message_id) or next((s for s in self.sent if s.ref.message_id == message_id), None)

    def pane(self, user_id: str) -> list[Sent]:
        """What one person sees in their own chats (not the channel), oldest first."""
        return [s for s in self.feed if s.channel is None and user_id in s.audience]

    def channel_posts(self) -> list[Sent]:
        return [s for s in self.feed if s.channel]
