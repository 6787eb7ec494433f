"""Pair scores: one scalar path and one vectorised path that give bit-identical results.

Hard rules become -inf (avoid lists, self). A repeat inside the no-repeat window costs
REPEAT_BASE plus up to REPEAT_AGE more for recent meetings, which dwarfs every profile term: any
repeat-free matching beats any matching with a repeat, fewer repeats beat more, and among equal counts
the oldest meetings are the ones repeated. Outside the window a soft penalty halves every
`repeat_half_life` rounds.
"""

from __future__ import annotations

import numpy as np

from .features import Features
from .problem import Weights

REPEAT_BASE = 1e5
REPEAT_AGE = 1e3
FORBIDDEN = float("-inf")


def is_repeat(score: float) -> bool:
    """True when a pair score carries the in-window repeat cost."""
    return score <= -REPEAT_BASE / 2 and score != FORBIDDEN


class Scorer:
    """Scores pairs of feature indices. In mentoring mode `i` is the mentor and `j` the mentee."""

    def __init__(self, feats: Features, weights: Weights, directed: bool, current_round: int, window: int):
        self.f = feats
        self.w = weights
        self.directed = directed
        self.n = feats.n
        max_age = max(current_round, 1) + 1
        table = [0.0] * (max_age + 1)
        for age in range(1, max_age + 1):
            cost = weights.repeat * 0.5 ** ((age - 1) / weights.repeat_half_life)
            if age <= window:
                cost += REPEAT_BASE + REPEAT_AGE * (window - age + 1) / window
            table[age] = cost
        self.repeat_table = table
        self.repeat_table_a = np.array(table, dtype=np.float64)
        self.current_round = current_round
        self._same_bonus = weights.department if weights.prefer_same_department else 0.0
        self._diff_bonus = 0.0 if weights.prefer_same_department else weights.department

    def pair(self, i: int, j: int) -> float:
        """Score of one pair; -inf when a hard rule forbids it."""
        if i == j:
            return FORBIDDEN
        f, w = self.f, self.w
        key = i * self.n + j if i < j else j * self.n + i
        if key in f.avoid:
            return FORBIDDEN
        skill = (f.offered[i] & f.wanted[j]).bit_count()
        if not self.directed:
            skill += (f.offered[j] & f.wanted[i]).bit_count()
        shared = (f.interests[i] & f.interests[j]).bit_count()
        raw_hours = (f.hours[i] & f.hours[j]).bit_count() * 0.25
        hours = min(raw_hours, w.overlap_cap_hours)
        score = w.skill * skill + w.interest * shared + w.overlap_per_hour * hours
        if raw_hours < w.min_shared_hours:
            score -= w.short_overlap
        di, dj = f.dept[i], f.dept[j]
        if di >= 0 and dj >= 0:
            score += self._same_bonus if di == dj else self._diff_bonus
        last = f.last_met.get(key)
        if last is not None:
            score -= self.repeat_table[self.current_round - last]
        return score

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores of many pairs at once (same arithmetic, same order as `pair`)."""
        f, w = self.f, self.w
        rows = rows.astype(np.int64, copy=False)
        cols = cols.astype(np.int64, copy=False)
        skill = np.bitwise_count(f.offered_w[rows] & f.wanted_w[cols]).sum(axis=1, dtype=np.int64)
        if not self.directed:
            skill += np.bitwise_count(f.offered_w[cols] & f.wanted_w[rows]).sum(axis=1, dtype=np.int64)
        shared = np.bitwise_count(f.interests_w[rows] & f.interests_w[cols]).sum(axis=1, dtype=np.int64)
        slots = np.bitwise_count(f.hours_w[rows] & f.hours_w[cols]).sum(axis=1, dtype=np.int64)
        hours = np.minimum(slots * 0.25, w.overlap_cap_hours)
        score = w.skill * skill + w.interest * shared + w.overlap_per_hour * hours
        score -= np.where(slots * 0.25 < w.min_shared_hours, w.short_overlap, 0.0)
        di, dj = f.dept_a[rows], f.dept_a[cols]
        known = (di >= 0) & (dj >= 0)
        score += np.where(known, np.where(di == dj, self._same_bonus, self._diff_bonus), 0.0)
        keys = np.where(rows < cols, rows * self.n + cols, cols * self.n + rows)
        if len(f.met_keys):
            pos = np.searchsorted(f.met_keys, keys)
            pos_c = np.minimum(pos, len(f.met_keys) - 1)
            hit = f.met_keys[pos_c] == keys
            ages = self.current_round - f.met_rounds[pos_c]
            score -= np.where(hit, self.repeat_table_a[np.clip(ages, 0, len(self.repeat_table_a) - 1)], 0.0)
        bad = rows == cols
        if len(f.avoid_keys):
            pos = np.minimum(np.searchsorted(f.avoid_keys, keys), len(f.avoid_keys) - 1)
            bad |= f.avoid_keys[pos] == keys
        score[bad] = FORBIDDEN
        return score


def _bits(words: np.ndarray, size: int) -> np.ndarray:
    """Bitset words to a 0/1 float32 matrix (exact for counts in BLAS products)."""
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :size].astype(np.float32)


def _add_department(scorer: Scorer, score: np.ndarray, di: np.ndarray, dj: np.ndarray) -> None:
    """The department bonus, in place, from a small (row dept, col dept) table; unknown adds 0.0."""
    if not ((di >= 0).any() and (dj >= 0).any()):
        return
    size = int(max(di.max(), dj.max())) + 2  # code 0 = unknown, department d = d + 1
    table = np.full((size, size), scorer._diff_bonus)
    np.fill_diagonal(table, scorer._same_bonus)
    table[0, :] = table[:, 0] = 0.0
    score += table.astype(score.dtype)[(di + 1)[:, None], (dj + 1)[None, :]]


def score_matrix(scorer: Scorer, rows: np.ndarray, cols: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """All scores between `rows` (the i side) and `cols` (the j side) via BLAS products.

    Counts come out as exact small integers, and the arithmetic afterwards follows `Scorer.pairs`,
    so float64 entries equal the scalar scores bit for bit. Meant for pools up to a few thousand,
    or for row chunks; `dtype=np.float32` halves the memory traffic where the matrix only ranks
    partners (the full scan re-scores the ones it keeps).
    """
    f, w = scorer.f, scorer.w
    n_i, n_s = max(1, len(f.interest_vocab.display)), max(1, len(f.skill_vocab.display))
    # In-place steps in the order of `Scorer.pairs` (same float64 results, far fewer temporaries).
    score = (_bits(f.offered_w[rows], n_s) @ _bits(f.wanted_w[cols], n_s).T).astype(dtype, copy=False)
    if not scorer.directed:
        score += _bits(f.wanted_w[rows], n_s) @ _bits(f.offered_w[cols], n_s).T
    score *= w.skill
    term = (_bits(f.interests_w[rows], n_i) @ _bits(f.interests_w[cols], n_i).T).astype(dtype, copy=False)
    term *= w.interest
    score += term
    if f.hours_table is not None and f.hours_id is not None:  # a gather instead of a 96-wide product
        slots = f.hours_table[f.hours_id[rows][:, None], f.hours_id[cols][None, :]]
    else:
        slots = _bits(f.hours_w[rows], 96) @ _bits(f.hours_w[cols], 96).T
    np.multiply(slots, 0.25, out=term)
    short = term < w.min_shared_hours
    np.minimum(term, w.overlap_cap_hours, out=term)
    term *= w.overlap_per_hour
    score += term
    del term, slots
    score -= short * w.short_overlap
    del short
    _add_department(scorer, score, f.dept_a[rows], f.dept_a[cols])
    pos_r = np.full(scorer.n, -1, dtype=np.int64)
    pos_c = np.full(scorer.n, -1, dtype=np.int64)
    pos_r[rows], pos_c[cols] = np.arange(len(rows)), np.arange(len(cols))
    if len(f.met_keys):
        lo, hi = f.met_keys // scorer.n, f.met_keys % scorer.n
        cost = scorer.repeat_table_a[np.clip(scorer.current_round - f.met_rounds, 0, len(scorer.repeat_table_a) - 1)]
        for a, b in ((lo, hi), (hi, lo)):
            ra, cb = pos_r[a], pos_c[b]
            ok = (ra >= 0) & (cb >= 0)
            score[ra[ok], cb[ok]] -= cost[ok]
    if len(f.avoid_keys):
        lo, hi = f.avoid_keys // scorer.n, f.avoid_keys % scorer.n
        for a, b in ((lo, hi), (hi, lo)):
            ra, cb = pos_r[a], pos_c[b]
            ok = (ra >= 0) & (cb >= 0)
            score[ra[ok], cb[ok]] = FORBIDDEN
    same = pos_c[rows]
    hit = same >= 0
    score[np.flatnonzero(hit), same[hit]] = FORBIDDEN
    return score
