"""What `tandem chat` shows: only the messages the person in the seat would see, with numbered buttons.

The console port delivers every message (the simulated colleagues need them all); this port prints just the
seat's direct messages, its group chats and channel posts, and numbers their buttons so typing a number
clicks one. The numbers start again at 1 with each batch of new buttons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.markup import escape

from adapters.console.port import ConsolePort
from bot.kernel.messages import Message
from tandem.session import Clickable, clickables


@dataclass
class SeatPort(ConsolePort):
    """A console port that shows one person's view and remembers what they can click."""

    viewer: str = ""
    menu: list[Clickable] = field(default_factory=list)
    hidden: int = 0  # messages that went to other people since the last look
    fresh_batch: bool = True

    def begin(self) -> None:
        """A new input: the next message with buttons starts the numbering again."""
        self.fresh_batch, self.hidden = True, 0

    def sees(self, audience: tuple[str, ...], channel: str | None) -> bool:
        return bool(channel) or self.viewer in audience

    def _print(self, audience: tuple[str, ...], channel: str | None, message: Message, note: str = "") -> None:
        if not self.sees(audience, channel):
            self.hidden += 1
            return
        super()._print(audience, channel, message, note)
        sent = next((s for s in reversed(self.sent) if s.message is message), None)
        self._number(clickables(message, sent))

    def show_reply(self, user_id: str, message: Message) -> None:
        if user_id != self.viewer:
            return
        super().show_reply(user_id, message)
        self._number(clickables(message, None))

    def replay_last(self) -> None:
        """On taking a seat: show that person's latest message with buttons again, so they can click."""
        for sent in reversed(self.sent):
            if self.viewer in sent.audience and clickables(sent.message, sent):
                self.fresh_batch = True
                self._print(sent.audience, sent.channel, sent.message, note=" (latest)")
                return

    def _number(self, items: list[Clickable]) -> None:
        if not items or self.console is None:
            return
        if self.fresh_batch:
            self.menu, self.fresh_batch = [], False
        start = len(self.menu) + 1
        self.menu.extend(items)
        labels = "   ".join(f"[bold]{start + i}[/] {escape(c.label)}" for i, c in enumerate(items))
        self.console.print(f"  [dim]type a number to click:[/] {labels}")
