"""Mentoring rounds: an exact assignment of mentees to mentor slots.

Each mentor with capacity c becomes c slots; slot k costs `mentor_spread * k` extra so mentors get a
first mentee before anyone gets a second. Each mentee also has a private waitlist column whose cost
exceeds any real edge, so the solver places as many mentees as possible and only then maximises the
score. Small pools use the dense `linear_sum_assignment`; large ones use the sparse
`min_weight_full_bipartite_matching` on each mentee's top-k mentors. Both are exact on their graph.
"""

from __future__ import annotations

import numpy as np

WAITLIST_COST = 1e8
DENSE_CELLS = 6_000_000


def solve_mentoring(
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    mentors: list[int],
    capacity: dict[int, int],
    mentees: list[int],
    spread: float,
    dense: bool | None = None,
) -> tuple[list[tuple[int, int]], list[int], str]:
    """Assign mentees to mentors on candidate edges (row=mentee, col=mentor, score).

    Returns (mentor, mentee) pairs, waitlisted mentees and the solver name.
    """
    from scipy.optimize import linear_sum_assignment  # loaded on use: large peer rounds never need it
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    caps = {m: min(capacity[m], len(mentees)) for m in mentors}
    slot_start: dict[int, int] = {}
    n_slots = 0
    for m in mentors:
        slot_start[m] = n_slots
        n_slots += caps[m]
    slot_mentor = np.empty(n_slots, dtype=np.int64)
    slot_rank = np.empty(n_slots, dtype=np.float64)
    for m in mentors:
        s0 = slot_start[m]
        slot_mentor[s0 : s0 + caps[m]] = m
        slot_rank[s0 : s0 + caps[m]] = np.arange(caps[m])
    ne = len(mentees)
    if ne == 0:
        return [], [], "none"
    size = max(max(mentors, default=0), max(mentees), int(cols.max(initial=0)), int(rows.max(initial=0))) + 1
    cap_a = np.zeros(size, dtype=np.int64)
    start_a = np.zeros(size, dtype=np.int64)
    for m in mentors:
        cap_a[m], start_a[m] = caps[m], slot_start[m]
    row_pos = np.full(size, -1, dtype=np.int64)
    row_pos[np.array(mentees, dtype=np.int64)] = np.arange(ne)
    keep = cap_a[cols] > 0
    rows, cols, scores = rows[keep], cols[keep], scores[keep]
    top = float(scores.max()) if len(scores) else 0.0
    offset = top + 1.0
    # Expand each (mentee, mentor) edge to every slot of that mentor.
    per = cap_a[cols]
    e_rows = np.repeat(row_pos[rows], per)
    within = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    e_cols = np.repeat(start_a[cols], per) + within
    e_cost = offset - np.repeat(scores, per) + spread * slot_rank[e_cols]
    width = n_slots + ne
    if dense is None:
        dense = ne * width <= DENSE_CELLS
    if dense:
        cost = np.full((ne, width), np.inf)
        cost[e_rows, e_cols] = e_cost
        cost[:, n_slots:] = offset + WAITLIST_COST
        r_ind, c_ind = linear_sum_assignment(cost)
        solver = "assignment (scipy linear_sum_assignment, dense)"
    else:
        w_rows = np.r_[e_rows, np.arange(ne)]
        w_cols = np.r_[e_cols, n_slots + np.arange(ne)]
        w_cost = np.r_[e_cost, np.full(ne, offset + WAITLIST_COST)]
        graph = csr_array((w_cost, (w_rows, w_cols)), shape=(ne, width))
        r_ind, c_ind = min_weight_full_bipartite_matching(graph)
        solver = "assignment (scipy min_weight_full_bipartite_matching, sparse top-k)"
    pairs: list[tuple[int, int]] = []
    waitlist: list[int] = []
    for r, c in zip(r_ind.tolist(), c_ind.tolist(), strict=True):
        if c >= n_slots:
            waitlist.append(mentees[r])
        else:
            pairs.append((int(slot_mentor[c]), mentees[r]))
    return pairs, waitlist, solver
