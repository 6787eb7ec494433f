"""Input model of a matching round and its validation.

The bot's round service builds a :class:`MatchProblem` from the database; the CLI builds one from JSON
with :func:`problem_from_json`. Validation lives here so every caller gets the same error messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from itertools import chain, islice, repeat
from typing import Any, Literal

from bot.kernel.timeutil import BadTime
from bot.kernel.zones import typed_zone

Mode = Literal["peer", "mentoring"]
ROLES = ("peer", "mentor", "mentee")
MAX_GROUP_SIZE = 8
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ProblemError(ValueError):
    """Bad input, naming the participant (if any) and the field so the caller can fix it."""

    def __init__(self, participant_id: str | None, field: str, message: str) -> None:
        self.participant_id = participant_id
        self.field = field
        self.message = message
        where = f"participant {participant_id!r}, field {field!r}" if participant_id else f"field {field!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Participant:
    """One person's profile as the matcher sees it; `name` is only used in reasons."""

    id: str
    role: str = "peer"
    name: str = ""
    capacity: int = 1
    timezone: str = "UTC"
    working_hours: tuple[str, str] = ("09:00", "17:00")
    department: str = ""
    skills_offered: tuple[str, ...] = ()
    skills_wanted: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    paused: bool = False

    @property
    def display_name(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class PastGroup:
    """A group from an earlier round; `round` counts up from 1."""

    members: tuple[str, ...]
    round: int


@dataclass(frozen=True, slots=True)
class Weights:
    """Per-program score weights. Defaults favour skills, then interests, then reachable hours.

    A pair scores: skill * (skills one can teach the other) + interest * (shared interests)
    + overlap_per_hour * min(shared working hours, overlap_cap_hours) - short_overlap (when they share
    fewer than min_shared_hours) + department (when the department preference is met)
    - repeat * 0.5 ** ((age - 1) / repeat_half_life).

    ``short_overlap`` outweighs every profile term, so a pair without enough shared hours is only formed
    when no other good pairing exists; it stays far below a repeat's cost, so it never forces a repeat.
    """

    skill: float = 3.0
    interest: float = 2.0
    overlap_per_hour: float = 0.5
    overlap_cap_hours: float = 6.0
    min_shared_hours: float = 1.0
    short_overlap: float = 50.0
    department: float = 1.0
    prefer_same_department: bool = False
    repeat: float = 4.0
    repeat_half_life: float = 4.0
    mentor_spread: float = 1.0


@dataclass(frozen=True, slots=True)
class MatchProblem:
    """Everything one round needs: who takes part, how groups are formed, and who met whom before."""

    mode: Mode
    participants: tuple[Participant, ...]
    group_size: int = 2
    avoid_repeat_rounds: int = 12
    seed: int = 0
    history: tuple[PastGroup, ...] = ()
    weights: Weights = field(default_factory=Weights)

    @property
    def current_round(self) -> int:
        """The round being matched is one past the highest round in the history."""
        return max((g.round for g in self.history), default=0) + 1


def _str_list(value: Any, pid: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProblemError(pid, name, "must be a list of strings")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ProblemError(pid, name, "must be a list of strings")
        v = v.strip()
        if v:
            out.append(v)
    return tuple(out)


def _int(value: Any, pid: str | None, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(pid, name, f"must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ProblemError(pid, name, f"must be between {low} and {high}, got {value}")
    return value


@lru_cache(maxsize=1024)
def _known_zone(tz: str) -> str:
    """`typed_zone`, remembered: a large round repeats a few dozen zones thousands of times."""
    return typed_zone(tz)


def check_timezone(pid: str, tz: Any) -> str:
    if not isinstance(tz, str) or not tz:
        raise ProblemError(pid, "timezone", f"must be an IANA time zone name, got {tz!r}")
    try:
        return _known_zone(tz)
    except BadTime as exc:
        raise ProblemError(pid, "timezone", str(exc)) from None


def _hours(pid: str, value: Any) -> tuple[str, str]:
    if value is None:
        return ("09:00", "17:00")
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, str) and _TIME_RE.match(v) for v in value)
    ):
        raise ProblemError(pid, "working_hours", f'must be ["HH:MM", "HH:MM"], got {value!r}')
    if value[0] == value[1]:
        raise ProblemError(pid, "working_hours", "start and end must differ")
    return (value[0], value[1])


def _participant(raw: Any, index: int, mode: str) -> Participant:
    if not isinstance(raw, dict):
        raise ProblemError(None, f"participants[{index}]", "must be an object")
    pid = raw.get("id")
    if not isinstance(pid, str) or not pid.strip():
        raise ProblemError(None, f"participants[{index}].id", "every participant needs a non-empty string id")
    default_role = "peer" if mode == "peer" else None
    role = raw.get("role", default_role)
    if role not in ROLES:
        raise ProblemError(pid, "role", f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    if mode == "peer" and role != "peer":
        raise ProblemError(pid, "role", f"a {role} cannot take part in a peer round")
    if mode == "mentoring" and role == "peer":
        raise ProblemError(pid, "role", "a mentoring round needs role 'mentor' or 'mentee'")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise ProblemError(pid, "name", "must be a string")
    department = raw.get("department") or ""
    if not isinstance(department, str):
        raise ProblemError(pid, "department", "must be a string")
    paused = raw.get("paused", False) or raw.get("opted_out", False)
    if not isinstance(paused, bool):
        raise ProblemError(pid, "paused", "must be true or false")
    return Participant(
        id=pid,
        role=role,
        name=name.strip(),
        capacity=_int(raw.get("capacity", 1), pid, "capacity", 0, 1000),
        timezone=check_timezone(pid, raw.get("timezone", "UTC")),
        working_hours=_hours(pid, raw.get("working_hours")),
        department=department.strip(),
        skills_offered=_str_list(raw.get("skills_offered"), pid, "skills_offered"),
        skills_wanted=_str_list(raw.get("skills_wanted"), pid, "skills_wanted"),
        interests=_str_list(raw.get("interests"), pid, "interests"),
        avoid=_str_list(raw.get("avoid"), pid, "avoid"),
        paused=paused,
    )


def _weights(raw: Any) -> Weights:
    if raw is None:
        return Weights()
    if not isinstance(raw, dict):
        raise ProblemError(None, "weights", "must be an object")
    known = {f.name: f for f in fields(Weights)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ProblemError(None, f"weights.{key}", f"unknown weight (known: {', '.join(known)})")
        if key == "prefer_same_department":
            if not isinstance(value, bool):
                raise ProblemError(None, f"weights.{key}", "must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ProblemError(None, f"weights.{key}", f"must be a number, got {value!r}")
        elif key == "repeat_half_life" and value <= 0:
            raise ProblemError(None, f"weights.{key}", "must be positive")
        values[key] = value
    return Weights(**values)


def _history(raw: Any, ids: dict[str, str]) -> tuple[PastGroup, ...]:
    """Past groups, checked in bulk (the types of every item, member and round in one pass each), then
    built without per-field checks; only bad input walks the groups one by one to name what is wrong.

    Member ids reuse the participants' own strings: the decoded JSON's copies, scattered among freed
    objects, would otherwise pin over 100 MB of heap at 50,000 people."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProblemError(None, "history", "must be a list")
    if not raw:
        return ()
    if set(map(type, raw)) - {dict}:
        _first_bad_group(raw)
    members: list[Any] = list(map(dict.get, raw, repeat("members")))
    rounds: list[Any] = list(map(dict.get, raw, repeat("round")))
    if set(map(type, members)) - {list}:
        _first_bad_group(raw)
    flat: list[str] = list(chain.from_iterable(members))
    if set(map(type, flat)) - {str} or set(map(type, rounds)) - {int} or not 0 <= min(rounds) <= max(rounds) <= 10**9:
        _first_bad_group(raw)
    same: Iterator[str] = map(ids.get, flat, flat)
    sizes = set(map(len, members))
    if len(sizes) == 1 and (size := sizes.pop()) > 0:  # the usual case: one group size, tupled in C
        groups: Iterable[tuple[str, ...]] = zip(*[same] * size, strict=True)
    else:
        groups = (tuple(islice(same, len(m))) for m in members)
    return tuple(map(PastGroup, groups, rounds))


def _first_bad_group(raw: list) -> None:
    """Raise the error for the first malformed history group (the slow path of `_history`)."""
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ProblemError(None, f"history[{i}]", "must be an object")
        members = item.get("members")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ProblemError(None, f"history[{i}].members", "must be a list of participant ids")
        _int(item.get("round"), None, f"history[{i}].round", 0, 10**9)


def problem_from_json(data: Any) -> MatchProblem:
    """Validate decoded JSON and build a problem; raises ProblemError on the first bad field."""
    if not isinstance(data, dict):
        raise ProblemError(None, "(root)", "the input must be a JSON object")
    mode = data.get("mode")
    if mode not in ("peer", "mentoring"):
        raise ProblemError(None, "mode", f"must be 'peer' or 'mentoring', got {mode!r}")
    group_size = _int(data.get("group_size", 2), None, "group_size", 2, MAX_GROUP_SIZE)
    if mode == "mentoring" and group_size != 2:
        raise ProblemError(None, "group_size", "mentoring groups are always one mentor and one mentee")
    raw_people = data.get("participants")
    if not isinstance(raw_people, list):
        raise ProblemError(None, "participants", "must be a list")
    people: list[Participant] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_people):
        person = _participant(raw, i, mode)
        if person.id in seen:
            raise ProblemError(person.id, "id", "duplicate participant id")
        seen.add(person.id)
        people.append(person)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ProblemError(None, "seed", f"must be an integer, got {seed!r}")
    return MatchProblem(
        mode=mode,
        participants=tuple(people),
        group_size=group_size,
        avoid_repeat_rounds=_int(data.get("avoid_repeat_rounds", 12), None, "avoid_repeat_rounds", 0, 10**6),
        seed=seed,
        history=_history(data.get("history"), {p.id: p.id for p in people}),
        weights=_weights(data.get("weights")),
    )
