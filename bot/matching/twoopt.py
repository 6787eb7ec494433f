"""Vectorised 2-opt for pairs: many independent improving swaps per NumPy round.

For a candidate edge (a, c) whose ends are paired with pa and pc, re-pairing to (a, c) + (pa, pc)
gains s(a, c) + s(pa, pc) - s(a, pa) - s(c, pc). Each round scores every promising move at once,
then applies the best non-overlapping ones. Rounds stop when nothing improves or at a fixed cap,
never on a clock, so results are reproducible.
"""

from __future__ import annotations

import numpy as np

from .scoring import Scorer

MAX_ROUNDS = 200
_EPS = 1e-9


def pair_arrays(n: int, pairs: list[list[int]], scorer: Scorer) -> tuple[np.ndarray, np.ndarray]:
    """partner[x] (or -1) and cur[x] = score of x's pair."""
    partner = np.full(n, -1, dtype=np.int64)
    cur = np.zeros(n, dtype=np.float64)
    if pairs:
        arr = np.array(pairs, dtype=np.int64)
        partner[arr[:, 0]], partner[arr[:, 1]] = arr[:, 1], arr[:, 0]
        s = scorer.pairs(arr[:, 0], arr[:, 1])
        cur[arr[:, 0]] = s
        cur[arr[:, 1]] = s
    return partner, cur


def two_opt(
    scorer: Scorer,
    partner: np.ndarray,
    cur: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    max_rounds: int = MAX_ROUNDS,
) -> int:
    """Improve the pairing in place along candidate edges; returns the number of rounds run."""
    once = rows < cols
    rows, cols, scores = rows[once], cols[once], scores[once]
    best = np.full(len(partner), -np.inf)
    np.maximum.at(best, rows, scores)
    np.maximum.at(best, cols, scores)
    for done in range(max_rounds):
        pa, pc = partner[rows], partner[cols]
        ok = (pa >= 0) & (pc >= 0) & (pa != cols)
        # s(pa, pc) is at most about min(best[pa], best[pc]); skip moves that cannot pay off.
        bound = scores + np.minimum(best[np.maximum(pa, 0)], best[np.maximum(pc, 0)])
        idx = np.flatnonzero(ok & (bound > cur[rows] + cur[cols] + _EPS))
        if len(idx) == 0:
            return done
        a, c, pa, pc = rows[idx], cols[idx], pa[idx], pc[idx]
        s_new = scorer.pairs(pa, pc)
        gain = scores[idx] + s_new - cur[a] - cur[c]
        good = np.flatnonzero(gain > _EPS)
        if len(good) == 0:
            return done
        good = good[np.argsort(-gain[good], kind="stable")]
        used = np.zeros(len(partner), dtype=bool)
        applied = 0
        for m in good.tolist():
            x, y, px, py = int(a[m]), int(c[m]), int(pa[m]), int(pc[m])
            if used[x] or used[y] or used[px] or used[py]:
                continue
            used[x] = used[y] = used[px] = used[py] = True
            partner[x], partner[y], partner[px], partner[py] = y, x, py, px
            cur[x] = cur[y] = scores[idx[m]]
            cur[px] = cur[py] = s_new[m]
            applied += 1
        if applied == 0:
            return done
    return max_rounds


def pairs_from(partner: np.ndarray) -> list[list[int]]:
    idx = np.flatnonzero(partner > np.arange(len(partner)))
    return [[int(a), int(partner[a])] for a in idx]


def mutual_best(
    n: int, rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, free: np.ndarray, max_rounds: int = 20
) -> list[list[int]]:
    """Greedy start in NumPy: each round, free people whose best free candidates choose each other pair up.

    Roughly the classic heaviest-edge-first greedy matching, in a few vectorised rounds.
    """
    free = free.copy()
    keep = rows != cols
    rows, cols, scores = rows[keep], cols[keep], scores[keep]
    order = np.lexsort((cols, -scores, rows))  # by row, best score first, then lowest col
    rows, cols = rows[order], cols[order]
    pairs: list[list[int]] = []
    for _ in range(max_rounds):
        live = free[rows] & free[cols]
        if not live.any():
            break
        # People only ever leave `free`, so dropped edges never come back: keep the live ones (in
        # order) and each later round scans fewer.
        rows, cols = r, c = rows[live], cols[live]
        first = np.r_[True, r[1:] != r[:-1]]
        choice = np.full(n, -1, dtype=np.int64)
        choice[r[first]] = c[first]
        a = np.flatnonzero(choice >= 0)
        mutual = a[(choice[choice[a]] == a) & (a < choice[a])]
        if len(mutual) == 0:
            break
        partners = choice[mutual]
        free[mutual] = False
        free[partners] = False
        pairs += np.c_[mutual, partners].tolist()
    return pairs
