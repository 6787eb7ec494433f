"""The command grammar shared by Slack and Teams: text (and the people and channels it names) → a command.

Names come from :mod:`bot.chat.registry`. Two-word names are tried first; a second word that is a person
(a mention, or ``@name``) matches a name written with ``@person``. Mentions and channels arrive structured
on the event: their text is kept as one token in ``args`` and left out of :attr:`ParsedCommand.words`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.chat import registry
from bot.chat.registry import PERSON, Command
from bot.kernel.events import ChannelRef, MentionRef


@dataclass(frozen=True)
class ParsedCommand:
    command: Command | None
    args: list[str] = field(default_factory=list)
    raw: str = ""
    mentions: tuple[MentionRef, ...] = ()
    channels: tuple[ChannelRef, ...] = ()
    suggestion: Command | None = None

    @property
    def words(self) -> list[str]:
        """The arguments without the people, each channel as ``#<its id>`` (what program lookups compare).

        ``pause @Bob Smith until 2026-12-24 #mentoring`` → ``['until', '2026-12-24', '#C42']``.
        """
        people = {_clean(m.text) for m in self.mentions}
        out = []
        for arg in self.args:
            channel = self.channel(arg)
            if channel is not None:
                out.append(f"#{channel.channel_id}")
            elif arg not in people:
                out.append(arg)
        return out

    def channel(self, token: str) -> ChannelRef | None:
        """The channel this argument stands for, if it is one the platform sent."""
        return next((c for c in self.channels if _clean(c.text) == token), None)

    def is_person(self, token: str) -> bool:
        return any(_clean(m.text) == token for m in self.mentions) or (token.startswith("@") and len(token) > 1)


def parse(text: str, mentions: Sequence[MentionRef] = (), channels: Sequence[ChannelRef] = ()) -> ParsedCommand:
    """'pause until 2026-12-24' → command 'pause', args ['until', '2026-12-24']; empty text means help."""
    raw = _clean(text or "")
    found = (tuple(mentions), tuple(channels))
    words = _tokens(raw, [m.text for m in mentions] + [c.text for c in channels])
    if not words:
        return ParsedCommand(command=registry.lookup("help"), raw=raw, mentions=found[0], channels=found[1])
    parsed = ParsedCommand(command=None, args=words, raw=raw, mentions=found[0], channels=found[1])
    first = words[0].lower().lstrip("/")
    if len(words) > 1:
        person = parsed.is_person(words[1])
        hit = registry.lookup(f"{first} {PERSON if person else words[1].lower()}")
        if hit is not None:
            return ParsedCommand(hit, words[1 if person else 2 :], raw, found[0], found[1])
    hit = registry.lookup(first)
    if hit is not None:
        return ParsedCommand(hit, words[1:], raw, found[0], found[1])
    return ParsedCommand(None, words, raw, found[0], found[1], suggestion=closest(raw))


def closest(raw: str) -> Command | None:
    """The command someone probably meant (a typo, or the first word of a two-word name)."""
    words = raw.lower().split()
    if not words:
        return None
    known = registry.commands()
    candidates = list(registry.names())
    for probe in (" ".join(words[:2]), words[0]):
        hit = difflib.get_close_matches(probe, candidates, n=1, cutoff=0.6)
        if hit:
            return registry.lookup(hit[0])
    group = [c for c in known if c.name.split()[0] == words[0] and not c.hidden]
    return group[0] if group else None


def _clean(text: str) -> str:
    return " ".join(text.strip().split())


def _tokens(raw: str, refs: list[str]) -> list[str]:
    """Split on spaces, but keep each mention's or channel's text (``@Bob Smith``) as one token."""
    texts = sorted({_clean(t) for t in refs if t.strip()}, key=len, reverse=True)
    tokens: list[str] = []
    at = 0
    while at < len(raw):
        if raw[at] == " ":
            at += 1
            continue
        hit = next(
            (t for t in texts if raw.startswith(t, at) and (at + len(t) == len(raw) or raw[at + len(t)] == " ")), None
        )
        end = at + len(hit) if hit else (raw.find(" ", at) if " " in raw[at:] else len(raw))
        tokens.append(raw[at:end])
        at = end
    return tokens
