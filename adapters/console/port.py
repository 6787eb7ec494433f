"""The console 'platform': messages go to a transcript in memory and, optionally, to the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from adapters.console.render import render_message
from bot.kernel.clock import Clock
from bot.kernel.events import SentRef
from bot.kernel.messages import Message
from bot.kernel.port import PlatformCapabilities, SendError, ThreadReply, UserInfo

PLATFORM = "console"


@dataclass
class Sent:
    """One message as it arrived: who got it, where, and its content (for the simulated people)."""

    ref: SentRef
    audience: tuple[str, ...]  # user ids who see it (empty for a channel post)
    channel: str | None
    message: Message
    at: datetime
    updated: bool = False


@dataclass
class ConsolePort:
    """Implements the platform port for the demo and tests. ``fail_next`` lets tests inject errors."""

    clock: Clock
    console: Console | None = None
    names: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    capabilities: PlatformCapabilities = field(default_factory=PlatformCapabilities)
    sent: list[Sent] = field(default_factory=list)
    fail_next: list[SendError] = field(default_factory=list)
    directory: dict[str, UserInfo] = field(default_factory=dict)  # e-mail (lower case) → person, for imports
    heading: str | None = None  # printed once, before the next message (e.g. the simulated day)
    replies: dict[tuple[str, str], list[ThreadReply]] = field(default_factory=dict)  # (channel, thread) → replies
    channels: dict[str, list[UserInfo]] = field(default_factory=dict)  # channel → the people in it
    collapse: bool = False  # a run of identical boxes to different people prints once, then one line
    _counter: int = 0
    _last: tuple[str, str] | None = None  # (kind, body) of the box just printed, while collapsing
    _also: list[str] = field(default_factory=list)  # who else got that same box
    _where: dict[SentRef, int] = field(default_factory=dict)  # ref → its place in ``sent`` (a hint, checked)

    def _next_id(self) -> str:
        self._counter += 1
        return f"m{self._counter}"

    def _deliver(self, conversation: str, audience: tuple[str, ...], channel: str | None, message: Message) -> SentRef:
        if self.fail_next:
            raise self.fail_next.pop(0)
        ref = SentRef(conversation_id=conversation, message_id=self._next_id())
        self.sent.append(Sent(ref=ref, audience=audience, channel=channel, message=message, at=self.clock.now()))
        self._where.setdefault(ref, len(self.sent) - 1)
        self._print(audience, channel, message)
        return ref

    def _print(self, audience: tuple[str, ...], channel: str | None, message: Message, note: str = "") -> None:
        if self.console is None:
            return
        body = render_message(message)
        if channel:
            title, kind = f"#{channel}", f"#{channel}{note}"
        else:
            who = ", ".join(f"{self.names.get(u, u)}" for u in audience)
            title = ("DM → " if len(audience) == 1 else "Group DM → ") + who
            kind = f"{len(audience)}{note}"
        if self._repeats(kind, body, title.split(" → ", 1)[-1]):
            return
        self.console.print(
            Panel(
                body,
                title=escape(title + note),
                subtitle=escape(self._local_time(audience)),
                title_align="left",
                subtitle_align="right",
                expand=False,
            )
        )

    def _repeats(self, kind: str, body: str, who: str) -> bool:
        """Whether this box only repeats the one just printed (then it is counted, not printed)."""
        if self.collapse and self.heading is None and self._last == (kind, body):
            self._also.append(who)
            return True
        self._flush_heading()
        self._last = (kind, body) if self.collapse else None
        return False

    def flush(self) -> None:
        """Close a run of identical boxes with one line: how many more people got the same, and who."""
        if self._also and self.console is not None:
            shown = ", ".join(self._also[:6]) + (f" and {len(self._also) - 6} more" if len(self._also) > 6 else "")
            total = len(self._also) + 1
            self.console.print(
                f"  [dim]↳ the same for {len(self._also)} more ({total} people in all): {escape(shown)}[/]"
            )
        self._also, self._last = [], None

    def print(self, *items: object) -> None:
        """Print something of the caller's own (a rule, a table) after whatever is pending."""
        if self.console is not None:
            self._flush_heading()
            self.flush()
            self.console.print(*items)

    def _flush_heading(self) -> None:
        self.flush()
        if self.heading and self.console is not None:
            self.console.rule(escape(self.heading), style="cyan")
        self.heading = None

    def _local_time(self, audience: tuple[str, ...]) -> str:
        from bot.kernel.timeutil import show

        now = self.clock.now()
        if len(audience) == 1 and audience[0] in self.zones:
            return show(now, self.zones[audience[0]])
        return show(now, "UTC")

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        return self._deliver(f"D-{user_id}", (user_id,), None, message)

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        return self._deliver("G-" + "-".join(sorted(user_ids)), tuple(user_ids), None, message)

    async def post_to_channel(
        self, workspace_id: str, channel_id: str, message: Message, thread_id: str | None = None
    ) -> SentRef:
        return self._deliver(f"C-{channel_id}", (), channel_id, message)

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        item = self._find(ref)
        if item is None:
            raise SendError(f"no message {ref.message_id} to update", retryable=False)
        item.message, item.updated = message, True
        self._print(item.audience, item.channel, message, note=" (updated)")

    def _find(self, ref: SentRef) -> Sent | None:
        """The first message sent with this ref, without reading the whole list each time (a long simulation
        updates thousands of messages); tests may add to ``sent`` themselves, so a stale hint means a fresh look."""
        index = self._where.get(ref)
        if index is None or index >= len(self.sent) or self.sent[index].ref != ref:
            self._where = {}
            for i, item in enumerate(self.sent):
                self._where.setdefault(item.ref, i)
            index = self._where.get(ref)
        return None if index is None else self.sent[index]

    async def lookup_user_by_email(self, workspace_id: str, email: str) -> UserInfo | None:
        """The optional directory lookup (see bot/port.py), answered from the in-memory directory."""
        return self.directory.get(email.strip().lower())

    async def channel_members(
        self, workspace_id: str, channel_id: str, known: frozenset[str] = frozenset()
    ) -> list[UserInfo]:
        """The optional channel listing (see bot/kernel/port.py): whoever the simulation put in the channel."""
        return list(self.channels.get(channel_id, []))

    def add_thread_reply(self, channel_id: str, thread_id: str, user_id: str, text: str, reactions: int = 0) -> None:
        """Simulate someone answering in a thread (and how many reactions their answer got)."""
        thread = self.replies.setdefault((channel_id, thread_id), [])
        permalink = f"console://{channel_id}/{thread_id}/{len(thread) + 1}"
        thread.append(ThreadReply(user_id=user_id, text=text, reactions=reactions, permalink=permalink))

    async def top_replies(self, workspace_id: str, channel_id: str, thread_id: str, limit: int) -> list[ThreadReply]:
        """Optional port capability: the most-reacted replies in a thread, earliest first on ties."""
        thread = self.replies.get((channel_id, thread_id), [])
        ranked = sorted(enumerate(thread), key=lambda item: (-item[1].reactions, item[0]))
        return [reply for _, reply in ranked[:limit]]

    def show_reply(self, user_id: str, message: Message) -> None:
        """An ephemeral answer to something the person did."""
        if self.console is None:
            return
        body = render_message(message)
        who = self.names.get(user_id, user_id)
        if self._repeats("reply", body, who):
            return
        self.console.print(
            Panel(body, title=escape(f"only visible to {who}"), title_align="left", border_style="dim", expand=False)
        )
