"""Profiles turned into bitsets, so pair scores are a few ANDs and popcounts.

Every eligible person gets an index (participants sorted by id). Skills and interests are matched
case-insensitively; the first spelling seen is kept for reasons. Each feature exists twice: as Python
ints (fast for one pair at a time) and as uint64 word arrays (fast for millions of pairs in NumPy).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from .overlap import working_mask
from .problem import Participant, PastGroup

_WORD = 64
_WORD_MASK = (1 << _WORD) - 1


class Vocabulary:
    """Case-insensitive token ids with the first spelling kept for display."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.display: list[str] = []

    def bits(self, words: tuple[str, ...]) -> int:
        mask = 0
        for word in words:
            key = word.casefold()
            token = self.ids.get(key)
            if token is None:
                token = self.ids[key] = len(self.display)
                self.display.append(word)
            mask |= 1 << token
        return mask

    @property
    def n_words(self) -> int:
        return max(1, -(-len(self.display) // _WORD))


def to_words(masks: list[int], n_words: int) -> np.ndarray:
    """Split Python-int bitsets into an (n, n_words) uint64 array."""
    out = np.zeros((len(masks), n_words), dtype=np.uint64)
    for w in range(n_words):
        shift = w * _WORD
        out[:, w] = np.fromiter(((m >> shift) & _WORD_MASK for m in masks), dtype=np.uint64, count=len(masks))
    return out


def pair_key(i: int, j: int, n: int) -> int:
    return i * n + j if i < j else j * n + i


@dataclass(slots=True)
class Features:
    """Bitset view of the eligible participants of one round."""

    people: list[Participant]
    index: dict[str, int]
    interests: list[int]
    offered: list[int]
    wanted: list[int]
    hours: list[int]
    dept: list[int]
    interests_w: np.ndarray
    offered_w: np.ndarray
    wanted_w: np.ndarray
    hours_w: np.ndarray
    dept_a: np.ndarray
    avoid: set[int]
    avoid_keys: np.ndarray
    last_met: dict[int, int]
    met_keys: np.ndarray
    met_rounds: np.ndarray
    interest_vocab: Vocabulary
    skill_vocab: Vocabulary
    # Working days repeat (a few zones times a few patterns): each person's distinct-day id and the
    # shared quarter hours of every two distinct days, or None when there are too many distinct days.
    hours_id: np.ndarray | None = None
    hours_table: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.people)

    def key(self, i: int, j: int) -> int:
        return pair_key(i, j, len(self.people))


def _member_indices(members: list[str], index: dict[str, int]) -> np.ndarray:
    """Each member's index, -1 for people not in this round.

    Parsed input reuses the participants' own id strings in the history, so most members are found by
    address (a sorted search in NumPy, no string touched); only the rest take a dict lookup. Hundreds
    of thousands of dict lookups on scattered strings cost more than the whole search."""
    flat = np.full(len(members), -1, dtype=np.int64)
    if not index or not members:
        return flat
    address = np.fromiter(map(id, index), dtype=np.uint64, count=len(index))
    order = np.argsort(address)
    known, position = address[order], np.fromiter(index.values(), dtype=np.int64, count=len(index))[order]
    wanted = np.fromiter(map(id, members), dtype=np.uint64, count=len(members))
    at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
    found = known[at] == wanted
    flat[found] = position[at[found]]
    rest = np.flatnonzero(~found)
    if len(rest):  # the same id held in another string object, or someone not in this round
        flat[rest] = np.fromiter(
            map(index.get, [members[i] for i in rest], repeat(-1)), dtype=np.int64, count=len(rest)
        )
    return flat


def _last_meetings(history: tuple[PastGroup, ...], index: dict[str, int], n: int):
    """Sorted pair keys of everyone who met before, with the last round they met in."""
    sizes = np.fromiter((len(g.members) for g in history), dtype=np.int64, count=len(history))
    flat = _member_indices(list(chain.from_iterable(g.members for g in history)), index)
    rounds = np.repeat(np.fromiter((g.round for g in history), dtype=np.int64, count=len(history)), sizes)
    group = np.repeat(np.arange(len(history)), sizes)
    known = flat >= 0
    flat, rounds, group = flat[known], rounds[known], group[known]
    # All pairs within each group: pair every member with every later member of the same group.
    lo, hi, rr = [], [], []
    for shift in range(1, int(sizes.max(initial=0))):
        same = group[shift:] == group[:-shift]
        lo.append(flat[:-shift][same])
        hi.append(flat[shift:][same])
        rr.append(rounds[shift:][same])
    if not lo:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a, b, r_arr = np.concatenate(lo), np.concatenate(hi), np.concatenate(rr)
    keep = a != b
    a, b, r_arr = a[keep], b[keep], r_arr[keep]
    keys = np.minimum(a, b) * n + np.maximum(a, b)
    if len(keys) == 0:
        return keys, r_arr
    order = np.lexsort((r_arr, keys))
    keys, r_arr = keys[order], r_arr[order]
    last = np.r_[keys[1:] != keys[:-1], True]
    return keys[last], r_arr[last]


MAX_DISTINCT_DAYS = 1024


def _hours_table(hours: list[int]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Distinct working-day ids and their pairwise shared quarter hours (see `Features.hours_id`)."""
    ids: dict[int, int] = {}
    hours_id = np.array([ids.setdefault(h, len(ids)) for h in hours], dtype=np.int64)
    if len(ids) > MAX_DISTINCT_DAYS:
        return None, None
    days = list(ids)
    table = np.array([[(a & b).bit_count() for b in days] for a in days], dtype=np.float32)
    return hours_id, table.reshape(len(days), len(days))


def build_features(people: list[Participant], history: tuple[PastGroup, ...]) -> Features:
    """Index `people` (already sorted by id) and encode their profiles and shared history."""
    n = len(people)
    index = {p.id: i for i, p in enumerate(people)}
    ivocab, svocab = Vocabulary(), Vocabulary()
    interests = [ivocab.bits(p.interests) for p in people]
    offered = [svocab.bits(p.skills_offered) for p in people]
    wanted = [svocab.bits(p.skills_wanted) for p in people]
    hours = [working_mask(p.timezone, *p.working_hours) for p in people]
    dept_ids: dict[str, int] = {}
    dept = [dept_ids.setdefault(p.department.casefold(), len(dept_ids)) if p.department else -1 for p in people]

    avoid: set[int] = set()
    for i, p in enumerate(people):
        for other in p.avoid:
            j = index.get(other)
            if j is not None and j != i:
                avoid.add(pair_key(i, j, n))
    hours_id, hours_table = _hours_table(hours)
    met_keys, met_rounds = _last_meetings(history, index, n)
    last_met = dict(zip(met_keys.tolist(), met_rounds.tolist(), strict=True))
    return Features(
        people=people,
        index=index,
        interests=interests,
        offered=offered,
        wanted=wanted,
        hours=hours,
        dept=dept,
        interests_w=to_words(interests, ivocab.n_words),
        offered_w=to_words(offered, svocab.n_words),
        wanted_w=to_words(wanted, svocab.n_words),
        hours_w=to_words(hours, 2),
        dept_a=np.array(dept, dtype=np.int64),
        avoid=avoid,
        avoid_keys=np.array(sorted(avoid), dtype=np.int64),
        last_met=last_met,
        met_keys=met_keys,
        met_rounds=met_rounds,
        interest_vocab=ivocab,
        skill_vocab=svocab,
        hours_id=hours_id,
        hours_table=hours_table,
    )
