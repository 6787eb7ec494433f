"""Peer rounds at scale: greedy grouping on candidate lists, then local search.

The objective is the sum of pair scores inside each group. Groups are built greedily from the best
candidate edges, people left over join the group they fit best (a pair becomes a trio), and then
member swaps between groups are applied while they raise the objective. Iteration counts, not
clocks, bound the search, so the same seed always gives the same groups.
"""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np

from .candidates import candidate_lists
from .cyclecover import assignment_dense, assignment_sparse, split_cycles
from .scoring import FORBIDDEN, Scorer, is_repeat
from .twoopt import mutual_best, pair_arrays, pairs_from, two_opt

MAX_PASSES = 30
# Swap evaluations per local search (about 0.5 s of Python); bounds groups of 3+ on large pools.
SWAP_BUDGET = 150_000
RESTARTS = 8
RESTART_PEOPLE = 1000
SPARSE_ASSIGNMENT_MAX = 20_000
REPAIR_BUDGET = 2_000_000
_EPS = 1e-9


def group_sizes(m: int, g: int) -> list[int]:
    """Sizes for m people in groups of g: the remainder is spread over existing groups."""
    if m < 2:
        return []
    g = min(g, m)
    count = m // g
    base, extra = divmod(m, count)
    return [base + 1] * extra + [base] * (count - extra)


class CandidateIndex:
    """Per-person candidate lists read lazily from row-sorted edge arrays (most are never asked for)."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n: int):
        order = np.argsort(rows, kind="stable")
        self.cols = cols[order]
        self.start = np.searchsorted(rows[order], np.arange(n + 1))
        self.cache: dict[int, list[int]] = {}

    def __getitem__(self, p: int) -> list[int]:
        got = self.cache.get(p)
        if got is None:
            got = self.cache[p] = self.cols[self.start[p] : self.start[p + 1]].tolist()
        return got


class PeerSearch:
    """Mutable grouping of people (feature indices) with a cached pair score."""

    def __init__(self, scorer: Scorer, people: list[int], group_size: int, rng: random.Random):
        self.scorer = scorer
        self.people = people
        self.g = max(2, min(group_size, len(people)))
        self.rng = rng
        self.cache: dict[int, float] = {}
        self.groups: list[list[int]] = []
        self.group_of: dict[int, int] = {}
        self.cands: CandidateIndex | dict[int, list[int]] = {p: [] for p in people}

    def s(self, i: int, j: int) -> float:
        n = self.scorer.n
        key = i * n + j if i < j else j * n + i
        v = self.cache.get(key)
        if v is None:
            v = self.cache[key] = self.scorer.pair(i, j)
        return v

    def fits(self, x: int, members: list[int], skip: int = -1) -> float:
        """Sum of x's scores with members (except x and skip); -inf if a hard rule forbids one."""
        total = 0.0
        for y in members:
            if y != x and y != skip:
                total += self.s(x, y)
        return total

    def set_candidates(self, rows: np.ndarray, cols: np.ndarray) -> None:
        self.cands = CandidateIndex(rows, cols, self.scorer.n)

    # --- construction -------------------------------------------------------------------------
    def _add_group(self, members: list[int]) -> None:
        gid = len(self.groups)
        self.groups.append(members)
        for m in members:
            self.group_of[m] = gid

    def greedy_pairs(self, rows: np.ndarray, cols: np.ndarray, scores: np.ndarray) -> None:
        """Take the best remaining edge while both ends are free."""
        lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
        keys, first = np.unique(lo * self.scorer.n + hi, return_index=True)
        sc = scores[first]
        tie = np.array([self.rng.random() for _ in range(len(keys))])
        order = np.lexsort((tie, -sc))
        n = self.scorer.n
        free = set(self.people)
        for key in keys[order].tolist():
            a, b = divmod(key, n)
            if a in free and b in free:
                free.discard(a)
                free.discard(b)
                self._add_group([a, b])

    def greedy_groups(self) -> None:
        """Grow each group from its hardest-to-place seed by the best-fitting free candidate."""
        order = sorted(self.people, key=lambda p: (len(self.cands[p]), self.rng.random()))
        placed: set[int] = set()
        for seed in order:
            if seed in placed:
                continue
            group = [seed]
            pool = list(dict.fromkeys(self.cands[seed]))
            while len(group) < self.g:
                best, best_val = -1, FORBIDDEN
                for c in pool:
                    if c in placed or c in group:
                        continue
                    val = self.fits(c, group)
                    if val > best_val:
                        best, best_val = c, val
                if best < 0:
                    break
                group.append(best)
                if len(group) == 2:
                    pool.extend(c for c in self.cands[best] if c not in pool)
            if len(group) == self.g:
                placed.update(group)
                self._add_group(group)

    def place_leftovers(self) -> list[int]:
        """Form groups from leftovers, then let the rest join the best group; return who can't fit."""
        left = [p for p in self.people if p not in self.group_of]
        if not left:
            return []
        if len(left) >= self.g:
            left = self._group_leftovers(left)
        if self.g == 2:
            left = self._augment_pairs(left)
        target = group_sizes(sum(len(g) for g in self.groups) + len(left), self.g)
        hi, lo = max(target, default=self.g), min(target, default=self.g)
        left.sort(key=lambda p: (len(self.cands[p]), p))
        while len(self.groups) < len(target) and left:
            self._add_group([left.pop(0)])  # seed the groups the greedy pass could not fill
        unplaced = [p for p in left if not self._seat(p, hi)]
        self._fill_small_groups(lo)
        unplaced += self._fold_singletons()
        self._drop_empty()
        return unplaced

    def _group_leftovers(self, left: list[int]) -> list[int]:
        """Group the leftovers among themselves (any allowed pair is a candidate); return who is still free."""
        sub = PeerSearch(self.scorer, left, self.g, self.rng)
        sub.cands = {p: [q for q in left if q != p and self.s(p, q) != FORBIDDEN] for p in left}
        if self.g > 2:
            sub.greedy_groups()
        else:
            sub._pair_all()
        for grp in sub.groups:
            self._add_group(grp)
        return [p for p in left if p not in self.group_of]

    def _seat(self, p: int, hi: int) -> bool:
        """Find p a seat: a group below `hi`, else by moving someone out, else any group that allows it."""
        return self._join(p, hi) or self._join_by_swap(p, hi) or self._join(p, None)

    def _fold_singletons(self) -> list[int]:
        """Groups of one that nobody could be moved into: fold the seed into any group; return who can't."""
        unplaced = []
        for grp in self.groups:
            if len(grp) == 1:
                p = grp.pop()
                del self.group_of[p]
                if not self._join(p, None):
                    unplaced.append(p)
        return unplaced

    def _fill_small_groups(self, lo: int) -> None:
        """Move members from groups above `lo` into groups below it, best fit first."""
        for gid, grp in enumerate(self.groups):
            while len(grp) < lo:
                best = None
                for oid, other in enumerate(self.groups):
                    if oid == gid or len(other) <= lo:
                        continue
                    for y in other:
                        val = self.fits(y, grp) - self.fits(y, other)
                        if self.fits(y, grp) != FORBIDDEN and (best is None or val > best[0]):
                            best = (val, oid, y)
                if best is None:
                    break
                _, oid, y = best
                self.groups[oid].remove(y)
                grp.append(y)
                self.group_of[y] = gid

    def _drop_empty(self) -> None:
        groups = [g for g in self.groups if g]
        self.groups, self.group_of = [], {}
        for g in groups:
            self._add_group(g)

    def _join(self, p: int, below: int | None) -> bool:
        """Put p in the best group smaller than `below` (any group if None)."""
        best, best_val = -1, FORBIDDEN
        smallest = min((len(g) for g in self.groups), default=0)
        for tier in (smallest, None):
            for gid, grp in enumerate(self.groups):
                if (below is not None and len(grp) >= below) or (tier is not None and len(grp) != tier):
                    continue
                val = self.fits(p, grp)
                if val > best_val:
                    best, best_val = gid, val
            if best >= 0:
                break
        if best < 0:
            return False
        self.groups[best].append(p)
        self.group_of[p] = best
        return True

    def _join_by_swap(self, p: int, below: int) -> bool:
        """p takes x's seat in some group, and x moves to another group with room."""
        room = [gid for gid, g in enumerate(self.groups) if len(g) < below]
        best = None
        for gid, grp in enumerate(self.groups):
            for x in grp:
                if self.fits(p, grp, skip=x) == FORBIDDEN:
                    continue
                for hid in room:
                    if hid == gid:
                        continue
                    val = self.fits(p, grp, skip=x) - self.fits(x, grp) + self.fits(x, self.groups[hid])
                    if val != FORBIDDEN and (best is None or val > best[0]):
                        best = (val, gid, x, hid)
        if best is None:
            return False
        _, gid, x, hid = best
        grp = self.groups[gid]
        grp[grp.index(x)] = p
        self.group_of[p] = gid
        self.groups[hid].append(x)
        self.group_of[x] = hid
        return True

    def _pair_all(self) -> None:
        edges = [(self.s(a, b), a, b) for i, a in enumerate(self.people) for b in self.people[i + 1 :]]
        edges = [e for e in edges if e[0] != FORBIDDEN]
        edges.sort(key=lambda e: (-e[0], e[1], e[2]))
        free = set(self.people)
        for _, a, b in edges:
            if a in free and b in free:
                free -= {a, b}
                self._add_group([a, b])

    def _augment_pairs(self, left: list[int]) -> list[int]:
        """Two leftovers u, v that can't meet: split a pair (a, b) into (u, a) and (b, v)."""
        left = list(left)
        while 2 <= len(left) <= 64:
            found = self._first_augmentation(left)
            if found is None:
                break
            u, v, gid, p, q = found
            self.groups[gid] = [u, p]
            self.group_of[u] = gid
            self._add_group([q, v])
            left = [w for w in left if w not in (u, v)]
        return left

    def _first_augmentation(self, left: list[int]) -> tuple[int, int, int, int, int] | None:
        """The first leftover pair (in list order) that some pair can be split for, with the best split."""
        for x, u in enumerate(left):
            for v in left[x + 1 :]:
                split = self._best_pair_split(u, v)
                if split is not None:
                    return (u, v, *split)
        return None

    def _best_pair_split(self, u: int, v: int) -> tuple[int, int, int] | None:
        """The pair (group id, partner of u, partner of v) whose split into (u, p) and (q, v) scores best."""
        best: tuple[float, int, int, int] | None = None
        for gid, grp in enumerate(self.groups):
            if len(grp) != 2:
                continue
            a, b = grp
            for p, q in ((a, b), (b, a)):
                val = self.s(u, p) + self.s(q, v) - self.s(a, b)
                if val != FORBIDDEN and (best is None or val > best[0]):
                    best = (val, gid, p, q)
        return None if best is None else best[1:]

    # --- improvement --------------------------------------------------------------------------
    def _swap(self, x: int, gx: int, y: int, gy: int) -> None:
        A, C = self.groups[gx], self.groups[gy]
        A[A.index(x)] = y
        C[C.index(y)] = x
        self.group_of[x], self.group_of[y] = gy, gx

    def swap_gain(self, x: int, y: int) -> float:
        """Objective change if x and y trade groups."""
        A, C = self.groups[self.group_of[x]], self.groups[self.group_of[y]]
        return (self.fits(y, A, skip=x) - self.fits(x, A, skip=x)) + (self.fits(x, C, skip=y) - self.fits(y, C, skip=y))

    def local_search(self, max_passes: int = MAX_PASSES, budget: int = SWAP_BUDGET) -> None:
        """Bring each person together with a candidate by swapping out one of their group-mates.

        Stops at a local optimum, after `max_passes` passes or after `budget` evaluated moves
        (a count, not a clock, so the result stays reproducible).
        """
        order = [p for p in self.people if p in self.group_of]
        for _ in range(max_passes):
            improved = False
            for a in order:
                budget -= len(self.cands[a]) * len(self.groups[self.group_of[a]])
                if budget < 0:
                    return
                for c in self.cands[a]:
                    ga, gc = self.group_of[a], self.group_of.get(c, -1)
                    if gc < 0 or gc == ga:
                        continue
                    A, C = self.groups[ga], self.groups[gc]
                    if len(C) == len(A) + 1:
                        gain = self.fits(c, A) - self.fits(c, C)
                        if gain > _EPS:
                            C.remove(c)
                            A.append(c)
                            self.group_of[c] = ga
                            improved = True
                            break
                    best_x, best_gain = -1, _EPS
                    for x in A:
                        gain = self.swap_gain(x, c)
                        if gain > best_gain:
                            best_x, best_gain = x, gain
                    if best_x >= 0:
                        self._swap(best_x, ga, c, gc)
                        improved = True
                        break
            if not improved:
                break

    def repair_repeats(self, unplaced: list[int] | None = None, budget: int = REPAIR_BUDGET) -> None:
        """Last resort for in-window repeats: try swapping each involved person with anyone.

        ``unplaced`` (people no group could take, updated in place) are candidates too: when someone has to
        sit this round out anyway, it should not be at the price of a repeat."""
        waiting = unplaced if unplaced is not None else []
        for gid in range(len(self.groups)):
            grp = self.groups[gid]
            for x in dict.fromkeys(self._repeat_members(grp)):
                if budget <= 0 or self.group_of.get(x) != gid:
                    return
                best_y, best_gain, tried = self._best_swap_for(x, gid)
                budget -= tried + len(waiting)
                best_out = self._best_waiting(x, grp, waiting, best_gain)
                if best_out >= 0:
                    self._bench(x, gid, best_out, waiting)
                elif best_y >= 0:
                    self._swap(x, gid, best_y, self.group_of[best_y])
                elif self._split(gid):
                    break

    def _repeat_members(self, grp: list[int]) -> list[int]:
        """Both members of every in-window repeat pair in the group, in pair order (with duplicates)."""
        return [z for x in grp for y in grp if x < y and is_repeat(self.s(x, y)) for z in (x, y)]

    def _best_swap_for(self, x: int, gid: int) -> tuple[int, float, int]:
        """The member of another group whose swap with x gains most, that gain, and how many were tried."""
        best_y, best_gain, tried = -1, _EPS, 0
        for oid, other in enumerate(self.groups):
            if oid == gid:
                continue
            for y in other:
                tried += 1
                gain = self.swap_gain(x, y)
                if gain > best_gain:
                    best_y, best_gain = y, gain
        return best_y, best_gain, tried

    def _best_waiting(self, x: int, grp: list[int], waiting: list[int], floor: float) -> int:
        """The waiting person who would take x's seat for more than `floor`, or -1."""
        best_out, out_gain = -1, floor
        for u in waiting:
            gain = self.fits(u, grp, skip=x) - self.fits(x, grp, skip=x)
            if gain > out_gain:
                best_out, out_gain = u, gain
        return best_out

    def _bench(self, x: int, gid: int, u: int, waiting: list[int]) -> None:
        """u takes x's seat in group gid and x waits in u's place instead."""
        grp = self.groups[gid]
        grp[grp.index(x)] = u
        del self.group_of[x]
        self.group_of[u] = gid
        waiting[waiting.index(u)] = x

    def _group_value(self, members: list[int] | tuple[int, ...]) -> float:
        return sum(self.s(a, b) for a, b in combinations(members, 2))

    def _split(self, gid: int) -> bool:
        """An oversized group (someone joined it as a last resort) becomes two groups when that is better.

        Only for groups of 4 to 8, where every split can be tried; a group of 5 holding a repeat may split
        into 3 + 2 that keep the two apart."""
        grp = self.groups[gid]
        if not 4 <= len(grp) <= 8 or len(grp) <= self.g:
            return False
        whole = self._group_value(grp)
        best, best_gain = None, _EPS
        first, rest = grp[0], grp[1:]
        for size in range(1, len(grp) - 2):
            for others in combinations(rest, size):
                a = [first, *others]
                b = [p for p in rest if p not in others]
                gain = self._group_value(a) + self._group_value(b) - whole
                if gain > best_gain:
                    best, best_gain = (a, b), gain
        if best is None:
            return False
        a, b = best
        self.groups[gid] = a
        self.groups.append(b)
        for p in b:
            self.group_of[p] = len(self.groups) - 1
        return True


def _pair_round(search: PeerSearch, cand: tuple, rng: np.random.Generator, matrix: np.ndarray | None) -> None:
    """Pairs at scale: cycle-cover start, re-pair leftovers, then vectorised 2-opt."""
    scorer = search.scorer
    rows, cols, scores = cand
    people = np.array(search.people, dtype=np.int64)
    if matrix is not None:
        # Dense pools: the assignment relaxation is cheap and lands close to the optimum.
        succ = assignment_dense(matrix)
        pairs, _ = split_cycles(succ, lambda a, b: search.s(int(people[a]), int(people[b])))
        for a, b in pairs:
            search._add_group([int(people[a]), int(people[b])])
    elif len(people) <= SPARSE_ASSIGNMENT_MAX:
        pos = np.full(scorer.n, -1, dtype=np.int64)
        pos[people] = np.arange(len(people))
        once = rows < cols
        succ = assignment_sparse(len(people), pos[rows[once]], pos[cols[once]], scores[once])
        pairs, _ = split_cycles(succ, lambda a, b: search.s(int(people[a]), int(people[b])))
        for a, b in pairs:
            search._add_group([int(people[a]), int(people[b])])
    else:
        # Very large pools: sparse LAPJV grows too fast with n; greedy + 2-opt is ~1.5 % lower.
        free = np.zeros(scorer.n, dtype=bool)
        free[people] = True
        for grp in mutual_best(scorer.n, rows, cols, scores, free):
            search._add_group(grp)
    # Leftovers of very large pools are re-paired from sampled candidates: scoring all their pairs
    # costs more than half a second at 50,000 people.
    full_scan = len(people) <= SPARSE_ASSIGNMENT_MAX
    for _ in range(3):
        left = [p for p in search.people if p not in search.group_of]
        if len(left) < 2:
            break
        arr = np.array(left, dtype=np.int64)
        sub = candidate_lists(scorer, arr, arr, 20, rng, symmetric=True, full_scan=full_scan)
        before = len(search.groups)
        search.greedy_pairs(*sub)
        if len(search.groups) == before:
            break
    partner, cur = pair_arrays(scorer.n, search.groups, scorer)
    two_opt(scorer, partner, cur, rows, cols, scores)
    search.groups = []
    search.group_of = {}
    for grp in pairs_from(partner):
        search._add_group(grp)


def solve_peers_heuristic(
    scorer: Scorer,
    people: list[int],
    group_size: int,
    cand: tuple,
    seed: int,
    matrix: np.ndarray | None = None,
) -> tuple[list[list[int]], list[int]]:
    """Greedy + local search. `cand` is (rows, cols, scores) of top-k candidate edges; `matrix`, when
    given, is the dense score matrix of `people` (in that order) for the assignment start."""
    search = PeerSearch(scorer, people, group_size, random.Random(seed))
    rows, cols, scores = cand
    search.set_candidates(rows, cols)
    if search.g == 2:
        _pair_round(search, cand, np.random.default_rng(seed), matrix)
        unplaced = search.place_leftovers()
        search.repair_repeats(unplaced)
        return search.groups, unplaced
    best: tuple[float, list[list[int]], list[int]] | None = None
    shared_cache = search.cache
    # Small pools are cheap: restart from other seeds and keep the best local optimum.
    for attempt in range(max(1, min(RESTARTS, RESTART_PEOPLE // max(1, len(people))))):
        if attempt:
            search = PeerSearch(scorer, people, group_size, random.Random(seed * 1000 + attempt))
            search.set_candidates(rows, cols)
            search.cache = shared_cache
        search.greedy_groups()
        unplaced = search.place_leftovers()
        search.local_search()
        search.repair_repeats(unplaced)
        search.local_search()
        value = sum(search.fits(a, g) for g in search.groups for a in g) / 2
        if best is None or (len(unplaced), -value) < (len(best[2]), -best[0]):
            best = (value, [list(g) for g in search.groups], unplaced)
    assert best is not None  # the loop above runs at least once
    return best[1], best[2]
