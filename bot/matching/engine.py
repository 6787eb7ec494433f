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
from .candidates import DENSE_PAIRS, FULL_SCAN_PAIRS, candidate_lists, top_k_matrix
from .exact import AUTO_COLUMNS, exact_columns, solve_peers_exact
from .features import Features, build_features
from .mentoring import solve_mentoring
from .peer import solve_peers_heuristic
from .problem import MatchProblem
from .result import MatchGroup, MatchResult, MatchStats, Unmatched
from .scoring import Scorer, is_repeat, score_matrix

PEER_TOP_K = 20
MENTOR_TOP_K = 20
AUTO_EXACT_PEOPLE = 24
# --exact in mentoring scores every pair up to this many (memory grows with the product).
EXACT_MENTORING_PAIRS = 16_000_000
EXACT_MENTOR_TOP_K = 100


Pairs = list[tuple[int, int]]
Reasons = list[tuple[int, str]]
RoundOutcome = tuple[list[list[int]], Reasons, str]


def _blocked_counts(feats: Features) -> Counter[int]:
    """How many others each person may not meet (avoid lists, both directions)."""
    counts: Counter[int] = Counter()
    for key in feats.avoid:
        a, b = divmod(key, feats.n)
        counts[a] += 1
        counts[b] += 1
    return counts


def _split_isolated(feats: Features) -> tuple[list[int], list[int]]:
    """People whose avoid lists rule out everyone else, and the pool that can still be grouped."""
    n = feats.n
    blocked = _blocked_counts(feats)
    isolated = [p for p in range(n) if n - 1 - blocked[p] <= 0]
    pool = [p for p in range(n) if n - 1 - blocked[p] > 0]
    return isolated, pool


def _wants_exact(problem: MatchProblem, pool: list[int], strategy: str) -> bool:
    """The "exact" strategy always tries the MILP; "auto" only when the pool is small enough to be quick."""
    if strategy == "exact":
        return True
    small = len(pool) <= AUTO_EXACT_PEOPLE and exact_columns(len(pool), problem.group_size) <= AUTO_COLUMNS
    return small and strategy == "auto"


def _heuristic_peers(problem: MatchProblem, scorer: Scorer, pool: list[int]) -> tuple[list[list[int]], list[int], str]:
    """Greedy + local search on top-k candidates: all pairs scored (in chunks past DENSE_PAIRS) up to
    FULL_SCAN_PAIRS, else sampled."""
    rng = np.random.default_rng(problem.seed)
    arr = np.array(pool, dtype=np.int64)
    dense = len(pool) ** 2 <= DENSE_PAIRS
    matrix = None
    if dense:
        matrix = score_matrix(scorer, arr, arr)
        cand = top_k_matrix(matrix, arr, arr, PEER_TOP_K)
    else:
        cand = candidate_lists(scorer, arr, arr, PEER_TOP_K, rng, symmetric=True, dense=False)
    groups, unplaced = solve_peers_heuristic(scorer, pool, problem.group_size, cand, problem.seed, matrix)
    if dense:
        kind = "all pairs scored"
    else:
        kind = "all pairs scored in chunks" if len(pool) ** 2 <= FULL_SCAN_PAIRS else "sampled candidates"
    return groups, unplaced, f"greedy + local search (top-{PEER_TOP_K}, {kind})"


def _solve_pool(
    problem: MatchProblem, scorer: Scorer, pool: list[int], strategy: str
) -> tuple[list[list[int]], list[int], str]:
    """Groups, people left out and the solver's name; the heuristic steps in when the MILP is too large."""
    if _wants_exact(problem, pool, strategy):
        result = solve_peers_exact(scorer, pool, problem.group_size)
        if result is not None:
            return result[0], result[1], "exact (set partitioning MILP, scipy/HiGHS)"
    groups, unplaced, solver = _heuristic_peers(problem, scorer, pool)
    if strategy == "exact":
        solver += "; pool too large for the exact solver"
    return groups, unplaced, solver


def _peer_round(problem: MatchProblem, feats: Features, scorer: Scorer, strategy: str) -> RoundOutcome:
    """Peer groups (feature indices, each sorted), people left out with a reason, and the solver used."""
    n = feats.n
    if n <= 1:
        return [], [(0, txt.ALONE)] if n else [], "none"
    isolated, pool = _split_isolated(feats)
    unmatched: Reasons = [(p, txt.EXCLUDED) for p in isolated]
    groups, unplaced, solver = _solve_pool(problem, scorer, pool, strategy)
    if not pool:
        solver = "none"
    unmatched += [(p, txt.NO_FIT if len(pool) > 1 else txt.ALONE) for p in unplaced]
    return [sorted(g) for g in groups], unmatched, solver


def _assign_mentees(
    problem: MatchProblem,
    scorer: Scorer,
    mentees: list[int],
    active_mentors: list[int],
    capacity: dict[int, int],
    exact: bool,
) -> tuple[Pairs, list[int], str]:
    """(mentor, mentee) pairs, the waitlist and the solver; exact scores all pairs while memory allows."""
    all_pairs = exact and len(mentees) * len(active_mentors) <= EXACT_MENTORING_PAIRS
    k = len(active_mentors) if all_pairs else (EXACT_MENTOR_TOP_K if exact else MENTOR_TOP_K)
    rows, cols, scores = candidate_lists(
        scorer,
        np.array(mentees),
        np.array(active_mentors),
        k,
        np.random.default_rng(problem.seed),
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
    return pairs, waitlist, solver


def _cross_role_blocked(feats: Features, mentors: list[int], mentees: list[int]) -> dict[int, int]:
    """How many people of the other role each mentor or mentee may not meet (avoid lists)."""
    people = feats.people
    blocked = {m: 0 for m in mentors} | {m: 0 for m in mentees}
    for key in feats.avoid:
        a, b = divmod(key, feats.n)
        if people[a].role != people[b].role:
            blocked[a] += 1
            blocked[b] += 1
    return blocked


def _waitlist_reasons(
    problem: MatchProblem,
    feats: Features,
    waitlist: list[int],
    blocked: dict[int, int],
    mentors: list[int],
    any_active: bool,
) -> Reasons:
    """Waitlisted mentees, least matched so far first, each told their place and why they wait."""
    people = feats.people
    times_matched = Counter(m for g in problem.history for m in set(g.members))
    order = random.Random(problem.seed)
    waitlist.sort(key=lambda p: (times_matched[people[p].id], order.random()))
    out: Reasons = []
    for place, p in enumerate(waitlist, start=1):
        if not any_active:
            template = txt.NO_MENTORS
        elif blocked[p] >= len(mentors):
            template = txt.MENTORS_EXCLUDED
        else:
            template = txt.MENTORS_FULL
        out.append((p, template.format(place=txt.place_text(place))))
    return out


def _idle_mentor_reason(m: int, capacity: dict[int, int], blocked: dict[int, int], mentees: list[int]) -> str:
    """Why a mentor got nobody this round, most specific cause first."""
    if capacity[m] == 0:
        return txt.MENTOR_ZERO_CAPACITY
    if not mentees:
        return txt.MENTOR_NO_MENTEES
    if blocked[m] >= len(mentees):
        return txt.MENTOR_EXCLUDED
    return txt.MENTOR_ALL_TAKEN


def _mentoring_round(problem: MatchProblem, feats: Features, scorer: Scorer, exact: bool) -> RoundOutcome:
    """Mentor-mentee pairs, waitlisted mentees and idle mentors with reasons, and the solver used."""
    people = feats.people
    mentors = [i for i, p in enumerate(people) if p.role == "mentor"]
    mentees = [i for i, p in enumerate(people) if p.role == "mentee"]
    capacity = {m: people[m].capacity for m in mentors}
    active_mentors = [m for m in mentors if capacity[m] > 0]
    pairs: Pairs = []
    waitlist = list(mentees)
    solver = "none"
    if active_mentors and mentees:
        pairs, waitlist, solver = _assign_mentees(problem, scorer, mentees, active_mentors, capacity, exact)
    blocked = _cross_role_blocked(feats, mentors, mentees)
    unmatched = _waitlist_reasons(problem, feats, waitlist, blocked, mentors, bool(active_mentors))
    served = {m for m, _ in pairs}
    unmatched += [(m, _idle_mentor_reason(m, capacity, blocked, mentees)) for m in mentors if m not in served]
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


def _group_pair_scores(scorer: Scorer, groups: list[list[int]]) -> list[float]:
    """Scores of every pair inside every group, group by group in `combinations` order, in one
    vectorised call (`Scorer.pairs` equals `Scorer.pair` bit for bit)."""
    pairs = [pair for members in groups for pair in combinations(members, 2)]
    if not pairs:
        return []
    both = np.array(pairs, dtype=np.int64)
    return scorer.pairs(both[:, 0], both[:, 1]).tolist()


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
    scores = iter(_group_pair_scores(scorer, groups))
    for members in groups:
        pair_scores = [next(scores) for _ in range(len(members) * (len(members) - 1) // 2)]
        repeats += sum(1 for s in pair_scores if is_repeat(s))
        score = sum(pair_scores)
        objective += score
        why = txt.group_reasons(feats, members, problem.weights, mentoring)
        why = _repeat_notes(members, active, feats, problem, len(members) > 2) + why
        out_groups.append(MatchGroup(tuple(active[m].id for m in members), score, why))
    if not mentoring:
        out_groups.sort(key=lambda g: g.members)
    else:
        out_groups.sort(key=lambda g: (g.members[0], g.members[1]))
    out_unmatched = sorted((Unmatched(active[p].id, reason) for p, reason in unmatched), key=lambda u: u.id)
    stats = MatchStats(objective, repeats, perf_counter() - start, solver, problem.seed)
    return MatchResult(out_groups, out_unmatched, stats)
