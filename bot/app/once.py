"""Act once per inbound event, survive unique-key races, and take each person's events in turn.

These used to live in the adapters (Slack had all three, Teams one, the router a fourth copy for clicks).
They are core rules, whatever the platform:

* **Once.** An event that carries the platform's id (``event_id``) is recorded in ``processed_event``
  inside the same transaction as its effects. A platform retry, a double click or a second server that
  got the same delivery finds the key and answers ``NoReply``; a failed attempt rolls the key back with
  everything else, so the platform's retry can try again.
* **Races.** Two transactions that both find "nothing there yet" and both insert lose one of them to the
  unique key (or, on PostgreSQL, to a serialization failure or a deadlock). The attempt rolled back whole,
  so running it again in a fresh transaction is safe; it then sees the winner's row.
* **Turns.** Within one process, one person's events run one at a time in arrival order, so a double
  click or a quick "join" then "profile" never overtake or trip over each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.kernel.events import ActionEvent, Actor, Event, FormSubmittedEvent
from storage.database import Database
from storage.tables import ProcessedEvent
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.handler")

T = TypeVar("T")

ATTEMPTS = 3  # the first try and two more: a race is lost once, hardly ever twice in a row
KEY_LENGTH = 255  # processed_event.key
RACE_STATES = frozenset({"23505", "40001", "40P01"})  # unique violation, serialization failure, deadlock


# --- once ----------------------------------------------------------------------------------------------


def event_key(event: Event) -> str | None:
    """The ``processed_event`` key of an event, or None when the platform gave it no id.

    Clicks and form submissions get their own kind so their ids can never meet those of messages.
    Over-long keys keep a readable head and end in a digest, so two long ids never share a key.
    """
    if not event.event_id:
        return None
    kind = "action" if isinstance(event, ActionEvent) else "form" if isinstance(event, FormSubmittedEvent) else "event"
    key = f"{event.actor.platform}:{kind}:{event.event_id}"
    if len(key) > KEY_LENGTH:
        key = f"{key[: KEY_LENGTH - 65]}:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


async def first_time(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record an inbound event key in the caller's transaction; False if it was recorded before."""
    return bool(await insert_ignore(session, ProcessedEvent, [{"key": key, "at": now}], ["key"]))


async def handled_before(db: Database, event: Event) -> bool:
    """Whether an event with this id was acted on already (a read; it claims nothing).

    Only a shortcut for adapters with slow work to do before the event exists (downloading a file): the
    guarantee is still the key recorded in the event's own transaction.
    """
    key = event_key(event)
    if key is None:
        return False
    async with db.session() as session:
        found = await session.exec(select(ProcessedEvent.id).where(ProcessedEvent.key == key))
        return found.first() is not None


# --- races ---------------------------------------------------------------------------------------------


def is_race(exc: BaseException) -> bool:
    """A conflict with a concurrent transaction that a fresh attempt resolves, not a bug in the attempt.

    PostgreSQL names it by SQLSTATE; SQLite only in words, and only a unique key can clash there.
    """
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state:
        return state in RACE_STATES
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(orig)


async def retry_races(attempt: Callable[[], Awaitable[T]], what: str, attempts: int = ATTEMPTS) -> T:
    """Run ``attempt`` (one whole transaction), again when it lost a race; anything else propagates."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except DBAPIError as exc:
            if number == attempts or not is_race(exc):
                raise
            log.info("%s conflicted with a concurrent write (attempt %d); running it again", what, number)
    raise AssertionError("unreachable")  # pragma: no cover


# --- turns ---------------------------------------------------------------------------------------------


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # running or waiting; the entry goes when this drops to zero


class PersonTurns:
    """One lock per person, alive only while one of their events runs or waits.

    ``asyncio.Lock`` wakes its waiters first come, first served, so events run in arrival order.
    """

    def __init__(self) -> None:
        self._turns: dict[tuple[str, str, str], _Turn] = {}

    @staticmethod
    def key_of(actor: Actor) -> tuple[str, str, str]:
        return (actor.platform, actor.workspace_id, actor.user_id)

    def waiting(self, actor: Actor) -> int:
        """How many of this person's events are running or queued (0 when none)."""
        turn = self._turns.get(self.key_of(actor))
        return turn.holders if turn else 0

    def __len__(self) -> int:
        return len(self._turns)

    @contextlib.asynccontextmanager
    async def turn(self, actor: Actor) -> AsyncIterator[None]:
        key = self.key_of(actor)
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.holders += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.holders -= 1
            if turn.holders == 0:
                del self._turns[key]


_TURNS: weakref.WeakKeyDictionary[object, PersonTurns] = weakref.WeakKeyDictionary()


def turns_of(core: object) -> PersonTurns:
    """The turn book of one core (one per process in production; tests may run several cores side by side)."""
    turns = _TURNS.get(core)
    if turns is None:
        turns = _TURNS[core] = PersonTurns()
    return turns
