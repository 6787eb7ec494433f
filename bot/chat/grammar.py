"""The command grammar shared by Slack and Teams: parsing text into a command and its arguments."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CommandSpec:
    name: str  # 'pause' or 'program create'
    usage: str
    summary: str
    admin: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "help [command]", "Show what I can do."),
    CommandSpec("join", "join [program] [as mentor|mentee]", "Join a program (you'll be matched from the next round)."),
    CommandSpec("leave", "leave [program]", "Leave a program. No hard feelings."),
    CommandSpec("profile", "profile [program]", "Edit your role, skills, interests, time zone and working hours."),
    CommandSpec("pause", "pause 2w | pause until 2026-12-24", "Take a break: no matches, prompts or surveys."),
    CommandSpec("resume", "resume", "End your pause now."),
    CommandSpec("status", "status", "Your current match, next chat and open surveys."),
    CommandSpec("avoid", "avoid @person", "Never be matched with someone. Private: only you can see this."),
    CommandSpec("program create", "program create", "Start a program on a channel (opens a form).", admin=True),
    CommandSpec("program list", "program list", "List the programs in this workspace.", admin=True),
    CommandSpec("program settings", "program settings [program]", "Change a program's settings.", admin=True),
    CommandSpec("match preview", "match preview [program]", "See who would be matched, without sending.", admin=True),
    CommandSpec("match now", "match now [program]", "Run a round now and send the intros.", admin=True),
    CommandSpec("stats", "stats [program]", "Participation, meeting rate and pulse by round.", admin=True),
    CommandSpec("icebreaker now", "icebreaker now [program]", "Post an icebreaker question now.", admin=True),
)

_BY_NAME = {c.name: c for c in COMMANDS}
_MENTION = re.compile(r"<@([A-Za-z0-9:_\-\.]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class ParsedCommand:
    spec: CommandSpec | None
    args: list[str] = field(default_factory=list)
    raw: str = ""
    mentions: list[str] = field(default_factory=list)
    suggestion: CommandSpec | None = None


def register(spec: CommandSpec) -> None:
    """Later features add admin commands to the same grammar."""
    global COMMANDS
    if spec.name not in _BY_NAME:
        COMMANDS = (*COMMANDS, spec)
        _BY_NAME[spec.name] = spec


def parse(text: str) -> ParsedCommand:
    """'pause until 2026-12-24' → spec 'pause', args ['until', '2026-12-24']."""
    raw = " ".join((text or "").strip().split())
    mentions = _MENTION.findall(raw)
    words = raw.split(" ") if raw else []
    if not words:
        return ParsedCommand(spec=_BY_NAME["help"], raw=raw)
    first = words[0].lower().lstrip("/")
    if len(words) > 1:
        two = f"{first} {words[1].lower()}"
        if two in _BY_NAME:
            return ParsedCommand(spec=_BY_NAME[two], args=words[2:], raw=raw, mentions=mentions)
    if first in _BY_NAME:
        return ParsedCommand(spec=_BY_NAME[first], args=words[1:], raw=raw, mentions=mentions)
    return ParsedCommand(spec=None, args=words, raw=raw, mentions=mentions, suggestion=closest(raw))


def closest(raw: str) -> CommandSpec | None:
    words = raw.lower().split()
    if not words:
        return None
    candidates = [c.name for c in COMMANDS]
    for probe in (" ".join(words[:2]), words[0]):
        hit = difflib.get_close_matches(probe, candidates, n=1, cutoff=0.6)
        if hit:
            return _BY_NAME[hit[0]]
    group = [c for c in COMMANDS if c.name.split()[0] == words[0]]
    return group[0] if group else None


def spec(name: str) -> CommandSpec:
    return _BY_NAME[name]
