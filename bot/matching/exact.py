"""Exact peer grouping for small pools: set partitioning solved as an integer program (SciPy/HiGHS).

Every allowed group of the target sizes becomes a 0/1 column worth the sum of its pair scores; each
person is covered exactly once. When hard rules make full cover impossible, the solve is repeated
lexicographically: first cover as many people as possible, then use as few oversized groups as possible,
then maximise the score.
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import TYPE_CHECKING

import numpy as np

from .peer import group_sizes

if TYPE_CHECKING:
    from scipy.sparse import csc_array
from .scoring import FORBIDDEN, Scorer

AUTO_COLUMNS = 20_000
MAX_COLUMNS = 400_000


def exact_columns(m: int, g: int) -> int:
    """How many candidate groups the integer program would enumerate."""
    sizes = set(group_sizes(m, g))
    return sum(comb(m, s) for s in sizes)


def _enumerate(scorer: Scorer, people: list[int], sizes: list[int]):
    cols: list[tuple[int, ...]] = []
    vals: list[float] = []
    pair = {(a, b): scorer.pair(a, b) for a, b in combinations(people, 2)}
    for size in sizes:
        for group in combinations(people, size):
            total = 0.0
            for a, b in combinations(group, 2):
                v = pair[(a, b)]
                if v == FORBIDDEN:
                    break
                total += v
            else:
                cols.append(group)
                vals.append(total)
    return cols, np.array(vals, dtype=np.float64)


def _solve(c, a_cover, extra_rows, cover_eq, n_people, n_cols):
    """One MILP: columns are groups (+ one 'uncovered' slack per person when cover is not forced)."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # loaded on use: 0.4 s that large rounds skip
    from scipy.sparse import csc_array, hstack

    constraints = []
    if cover_eq:
        constraints.append(LinearConstraint(a_cover, 1, 1))
    else:
        slack = csc_array(np.eye(n_people))
        a = hstack([a_cover, slack]).tocsc()
        constraints.append(LinearConstraint(a, 1, 1))
    for row, lo, hi in extra_rows:
        constraints.append(LinearConstraint(row, lo, hi))
    n_var = len(c)
    res = milp(
        c,
        constraints=constraints,
        integrality=np.ones(n_var),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    return res


def _cover_matrix(people: list[int], cols: list[tuple[int, ...]]) -> csc_array:
    from scipy.sparse import csc_array

    pos = {p: i for i, p in enumerate(people)}
    r_idx = [pos[p] for grp in cols for p in grp]
    c_idx = [j for j, grp in enumerate(cols) for _ in grp]
    return csc_array((np.ones(len(r_idx)), (r_idx, c_idx)), shape=(len(people), len(cols)))


def _strict(scorer: Scorer, people: list[int], sizes: list[int], target: list[int]):
    """Everyone covered with exactly the target sizes; (None, cols) when that is infeasible."""
    cols, vals = _enumerate(scorer, people, sizes)
    if not cols:
        return None, cols
    a_cover = _cover_matrix(people, cols)
    extra = []
    if len(sizes) > 1:
        big = np.array([len(g) == sizes[-1] for g in cols], dtype=np.float64)
        n_big = sum(1 for s in target if s == sizes[-1])
        extra = [(big[None, :], n_big, n_big)]
    res = _solve(-vals, a_cover, extra, True, len(people), len(cols))
    return (res.x if res.status == 0 else None), cols


def _lexicographic(scorer: Scorer, people: list[int], sizes: list[int], intended: set[int]):
    """Max coverage, then fewest groups of an unintended size, then the best score."""
    m = len(people)
    cols, vals = _enumerate(scorer, people, sizes)
    if not cols:
        return None, cols
    a_cover = _cover_matrix(people, cols)
    # With two intended sizes the larger one is the "remainder" size: use as few as possible.
    top = max(intended)
    off = np.array([len(g) not in intended or (len(intended) > 1 and len(g) == top) for g in cols], dtype=np.float64)
    zeros_u, ones_u, zeros_c = np.zeros(m), np.ones(m), np.zeros(len(cols))
    res = _solve(np.r_[zeros_c, ones_u], a_cover, [], False, m, len(cols))
    uncovered = round(res.fun)
    rows = [(np.r_[zeros_c, ones_u][None, :], uncovered, uncovered)]
    res = _solve(np.r_[off, zeros_u], a_cover, rows, False, m, len(cols))
    rows.append((np.r_[off, zeros_u][None, :], round(res.fun), round(res.fun)))
    res = _solve(np.r_[-vals, zeros_u], a_cover, rows, False, m, len(cols))
    return res.x[: len(cols)], cols


def solve_peers_exact(
    scorer: Scorer, people: list[int], group_size: int, max_columns: int = MAX_COLUMNS
) -> tuple[list[list[int]], list[int]] | None:
    """Optimal groups and the people that cannot be placed, or None when the pool is too large."""
    m = len(people)
    if m < 2:
        return [], list(people)
    sizes = sorted(set(group_sizes(m, group_size)))
    if exact_columns(m, group_size) > max_columns:
        return None
    target = group_sizes(m, group_size)
    x, cols = _strict(scorer, people, sizes, target)
    if x is None:
        # Hard rules block the target sizes. Allow any size from 2 up to the largest target size
        # (when that stays small) and solve lexicographically: cover the most people, then use
        # the fewest groups off the intended size, then maximise the score.
        loose = list(range(2, sizes[-1] + 1))
        if sum(comb(m, s) for s in loose) > max_columns:
            loose = sizes
        x, cols = _lexicographic(scorer, people, loose, set(target) if len(target) > 1 else {sizes[0]})
    if x is None:
        return [], list(people)
    chosen = [list(cols[j]) for j in np.flatnonzero(x > 0.5)]
    placed = {p for g in chosen for p in g}
    return chosen, [p for p in people if p not in placed]
