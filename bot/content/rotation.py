"""Pick the next icebreaker for a channel without repeating one until the bank is used up.

The helper is pure: the caller owns the per-channel record of used ids (in the database) and the
random generator, which keeps it easy to test and independent of where items came from. Library
items and admin-added items from the database can be mixed freely; each only needs an ``id``.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from typing import Protocol, TypeVar


class HasId(Protocol):
    @property
    def id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=HasId)


def next_icebreaker(
    bank: Sequence[ItemT],
    used_ids: Collection[str],
    rng: random.Random,
    *,
    last_id: str | None = None,
) -> tuple[ItemT, bool]:
    """Return ``(item, reset)``: an item whose id is not in ``used_ids``.

    When every id in the bank has been used, a new cycle starts: the item is drawn from the whole
    bank and ``reset`` is True, telling the caller to clear its used set before recording the
    item. Pass ``last_id`` (the question asked most recently) so a new cycle does not open with
    the very question that closed the previous one. Ids in ``used_ids`` that are no longer in the
    bank (say, a deleted custom question) are ignored. The choice depends only on the bank order,
    the used ids and the state of ``rng``, so a seeded generator gives repeatable picks.
    """
    unique: dict[str, ItemT] = {}
    for item in bank:
        unique.setdefault(item.id, item)
    if not unique:
        raise ValueError("the icebreaker bank is empty")
    used = set(used_ids)
    fresh = [item for item_id, item in unique.items() if item_id not in used]
    if fresh:
        return rng.choice(fresh), False
    candidates = [item for item_id, item in unique.items() if item_id != last_id] or list(unique.values())
    return rng.choice(candidates), True
