"""Entry point: `solve(problem)` picks a solver, applies the hard rules and writes reasons.

Paused people are dropped before anything else. Participants are sorted by id and all randomness
comes from the problem's seed (tie-breaking and candidate sampling only), so the same problem and
seed always give the same result.
"""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations
from time import perf_counter

import numpy as np

from . import reasons as txt
from .candidates import DENSE_PAIRS, candidate_lists, top_k_matrix
from .exact import AUTO_COLUMNS, exact_columns, solve_peers_exact
from .features import Features, build_features
from .mentoring import solve_mentoring
from .peer import solve_peers_heuristic
from .problem import MatchProblem
from .result import MatchGroup, MatchResult, MatchStats, Unmatched
from .scoring import Scorer, is_repeat, score_matrix

PEER_TOP_K = 20
MENTOR_TOP_K = 10
AUTO_EXACT_PEOPLE = 24
# --exact in mentoring scores every pair up to this many (memory grows with the product).
EXACT_MENTORING_PAIRS = 16_000_000
EXACT_MENTOR_TOP_K = 100


def _blocked_counts(feats: Features) -> Counter[int]:
    """How many others each person may not meet (avoid lists, both directions)."""
    counts: Counter[int] = Counter()
    for key in feats.avoid:
        a, b = divmod(key, feats.n)
        counts[a] += 1
        counts[b] += 1
    return counts


def _peer_round(problem: MatchProblem, feats: Features, scorer: Scorer, strategy: str):
    n = feats.n
    if n <= 1:
        return [], [(0, txt.ALONE)] if n else [], "none"
    blocked = _blocked_counts(feats)
    isolated = [p for p in range(n) if n - 1 - blocked[p] <= 0]
    pool = [p for p in range(n) if n - 1 - blocked[p] > 0]
    unmatched = [(p, txt.EXCLUDED) for p in isolated]
    result = None
    solver = ""
    exact = strategy == "exact"
    small = len(pool) <= AUTO_EXACT_PEOPLE and exact_columns(len(pool), problem.group_size) <= AUTO_COLUMNS
    if exact or (small and strategy == "auto"):
        result = solve_peers_exact(scorer, pool, problem.group_size)
        solver = "exact (set partitioning MILP, scipy/HiGHS)"
    if result is None:
        rng = np.random.default_rng(problem.seed)
        arr = np.array(pool, dtype=np.int64)
        dense = len(pool) ** 2 <= DENSE_PAIRS
        matrix = None
        if dense:
            matrix = score_matrix(scorer, arr, arr)
            cand = top_k_matrix(matrix, arr, arr, PEER_TOP_K)
        else:
            cand = candidate_lists(scorer, arr, arr, PEER_TOP_K, rng, symmetric=True, dense=False)
        result = solve_peers_heuristic(scorer, pool, problem.group_size, cand, problem.seed, matrix)
        kind = "all pairs scored" if dense else "sampled candidates"
        solver = f"greedy + local search (top-{PEER_TOP_K}, {kind})"
        if exact:
            solver += "; pool too large for the exact solver"
    groups, unplaced = result
    if not pool:
        solver = "none"
    unmatched += [(p, txt.NO_FIT if len(pool) > 1 else txt.ALONE) for p in unplaced]
    return [sorted(g) for g in groups], unmatched, solver


def _mentoring_round(problem: MatchProblem, feats: Features, scorer: Scorer, exact: bool):
    people = feats.people
    mentors = [i for i, p in enumerate(people) if p.role == "mentor"]
    mentees = [i for i, p in enumerate(people) if p.role == "mentee"]
    capacity = {m: people[m].capacity for m in mentors}
    active_mentors = [m for m in mentors if capacity[m] > 0]
    rng = np.random.default_rng(problem.seed)
    pairs: list[tuple[int, int]] = []
    waitlist = list(mentees)
    solver = "none"
    rows = cols = np.empty(0, np.int64)
    if active_mentors and mentees:
        all_pairs = exact and len(mentees) * len(active_mentors) <= EXACT_MENTORING_PAIRS
        k = len(active_mentors) if all_pairs else (EXACT_MENTOR_TOP_K if exact else MENTOR_TOP_K)
        rows, cols, scores = candidate_lists(
            scorer,
            np.array(mentees),
            np.array(active_mentors),
            k,
            rng,
            symmetric=False,
            dense=True if all_pairs else None,
        )
        pairs, waitlist, solver = solve_mentoring(
            rows,
            cols,
            scores,
            active_mentors,
            capacity,
            mentees,
            problem.weights.mentor_spread,
            dense=None,
        )
        if all_pairs:
            solver += ", all mentor-mentee pairs"
        elif exact:
            solver += f", top-{EXACT_MENTOR_TOP_K} mentors per mentee (too many pairs to use all)"
    unmatched: list[tuple[int, str]] = []
    blocked = {m: 0 for m in mentors} | {m: 0 for m in mentees}
    for key in feats.avoid:
        a, b = divmod(key, feats.n)
        if people[a].role != people[b].role:
            blocked[a] += 1
            blocked[b] += 1
    times_matched = Counter(m for g in problem.history for m in set(g.members))
    order = random.Random(problem.seed)
    waitlist.sort(key=lambda p: (times_matched[people[p].id], order.random()))
    for place, p in enumerate(waitlist, start=1):
        if not active_mentors:
            template = txt.NO_MENTORS
        elif blocked[p] >= len(mentors):
            template = txt.MENTORS_EXCLUDED
        else:
            template = txt.MENTORS_FULL
        unmatched.append((p, template.format(place=txt.place_text(place))))
    served = {m for m, _ in pairs}
    for m in mentors:
        if m in served:
            continue
        if capacity[m] == 0:
            reason = txt.MENTOR_ZERO_CAPACITY
        elif not mentees:
            reason = txt.MENTOR_NO_MENTEES
        elif blocked[m] >= len(mentees):
            reason = txt.MENTOR_EXCLUDED
        else:
            reason = txt.MENTOR_ALL_TAKEN
        unmatched.append((m, reason))
    return [[m, e] for m, e in pairs], unmatched, solver


def _repeat_notes(
    members: tuple[int, ...] | list[int], active: list, feats: Features, problem: MatchProblem, name_them: bool
) -> tuple[str, ...]:
    """One honest line per pair in the group that met before, most recent first."""
    notes = []
    n = feats.n
    for a, b in combinations(members, 2):
        last = feats.last_met.get(a * n + b if a < b else b * n + a)
        if last is None:
            continue
        age = problem.current_round - last
        names = (active[a].display_name, active[b].display_name) if name_them else None
        notes.append((-last, txt.repeat_note(names, last, age <= problem.avoid_repeat_rounds)))
    return tuple(text for _, text in sorted(notes))


def solve(problem: MatchProblem, exact: bool = False) -> MatchResult:
    """Match one round. `exact=True` asks for the exact solver even when it is slower."""
    return solve_with(problem, "exact" if exact else "auto")


def solve_with(problem: MatchProblem, strategy: str = "auto") -> MatchResult:
    """`solve` with an explicit strategy: "auto", "exact" or "heuristic" (tests and benchmarks)."""
    if strategy not in ("auto", "exact", "heuristic"):
        raise ValueError(f"unknown strategy {strategy!r}")
    start = perf_counter()
    active = sorted((p for p in problem.participants if not p.paused), key=lambda p: p.id)
    feats = build_features(active, problem.history)
    mentoring = problem.mode == "mentoring"
    scorer = Scorer(feats, problem.weights, mentoring, problem.current_round, problem.avoid_repeat_rounds)
    if mentoring:
        groups, unmatched, solver = _mentoring_round(problem, feats, scorer, strategy == "exact")
    else:
        groups, unmatched, solver = _peer_round(problem, feats, scorer, strategy)

    out_groups: list[MatchGroup] = []
    repeats = 0
    objective = 0.0
    for members in groups:
        pair_scores = [scorer.pair(a, b) for a, b in combinations(members, 2)]
        repeats += sum(1 for s in pair_scores if is_repeat(s))
        score = sum(pair_scores)
        objective += score
        why = txt.group_reasons(
            [active[m] for m in members], [feats.hours[m] for m in members], problem.weights, mentoring
        )
        why = _repeat_notes(members, active, feats, problem, len(members) > 2) + why
        out_groups.append(MatchGroup(tuple(active[m].id for m in members), score, why))
    if not mentoring:
        out_groups.sort(key=lambda g: g.members)
    else:
        out_groups.sort(key=lambda g: (g.members[0], g.members[1]))
    out_unmatched = sorted((Unmatched(active[p].id, reason) for p, reason in unmatched), key=lambda u: u.id)
    stats = MatchStats(objective, repeats, perf_counter() - start, solver, problem.seed)
    return MatchResult(out_groups, out_unmatched, stats)
