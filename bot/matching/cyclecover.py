"""A strong first pairing from the assignment relaxation.

Solving the assignment problem on the symmetric score matrix gives the best cover of everyone by
directed cycles. Its 2-cycles are pairs; longer cycles are split by taking every other edge (for odd
cycles, leaving out the one person whose removal keeps the most score). Half the assignment value is
also an upper bound on any pairing, which the benchmark uses to judge quality.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_UNMATCHED = 1e9


def assignment_dense(matrix: np.ndarray) -> np.ndarray:
    """Successor of each person (positions) in the best cycle cover of a dense score matrix."""
    from scipy.optimize import linear_sum_assignment  # loaded on use, like every SciPy solver here

    cost = -matrix
    cost[~np.isfinite(cost)] = _UNMATCHED
    np.fill_diagonal(cost, _UNMATCHED)
    _, succ = linear_sum_assignment(cost)
    return succ


def assignment_sparse(m: int, rows: np.ndarray, cols: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Same on candidate edges given as positions 0..m-1; self loops keep it always feasible."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    offset = float(scores.max(initial=0.0)) + 1.0
    r = np.r_[rows, cols, np.arange(m)]
    c = np.r_[cols, rows, np.arange(m)]
    w = np.r_[offset - scores, offset - scores, np.full(m, offset + _UNMATCHED)]
    graph = csr_array((w, (r, c)), shape=(m, m))
    graph.sum_duplicates()
    _, succ = min_weight_full_bipartite_matching(graph)
    return succ


def _cycles(succ: np.ndarray) -> list[list[int]]:
    """The cycles of a successor array, each from its lowest position, in order of that position."""
    m = len(succ)
    seen = np.zeros(m, dtype=bool)
    cycles: list[list[int]] = []
    for start in range(m):
        if seen[start]:
            continue
        cycle = [start]
        seen[start] = True
        nxt = int(succ[start])
        while nxt != start:
            cycle.append(nxt)
            seen[nxt] = True
            nxt = int(succ[nxt])
        cycles.append(cycle)
    return cycles


def _split_even(cycle: list[int], w: list[float]) -> list[tuple[int, int]]:
    """An even cycle is two perfect matchings: keep the heavier (the first one on a tie)."""
    size = len(cycle)
    first = sum(w[0::2])
    second = sum(w[1::2])
    off = 0 if first >= second else 1
    return [(cycle[i], cycle[(i + 1) % size]) for i in range(off, size, 2)]


def _split_odd(cycle: list[int], w: list[float]) -> tuple[int, list[tuple[int, int]]]:
    """An odd cycle leaves one person out: the one whose removal keeps the most edge weight."""
    size = len(cycle)
    # alt[i] = w[i] + w[i-2] + ... over the doubled cycle, so any alternating run is a difference.
    ww = w + w
    alt = [0.0] * (2 * size)
    for i in range(2 * size):
        alt[i] = ww[i] + (alt[i - 2] if i >= 2 else 0.0)
    best_j, best_val = 0, -np.inf
    for j in range(size):
        # leave out cycle[j]; take edges j+1, j+3, ..., j+size-2
        hi, lo = j + size - 2, j - 1
        val = alt[hi] - (alt[lo] if lo >= 0 else 0.0)
        if val > best_val:
            best_j, best_val = j, val
    pairs = [(cycle[(best_j + 1 + 2 * t) % size], cycle[(best_j + 2 + 2 * t) % size]) for t in range(size // 2)]
    return cycle[best_j], pairs


def split_cycles(succ: np.ndarray, weight: Callable[[int, int], float]) -> tuple[list[tuple[int, int]], list[int]]:
    """Pairs and leftovers from a successor array; `weight(a, b)` scores an edge."""
    pairs: list[tuple[int, int]] = []
    left: list[int] = []
    for cycle in _cycles(succ):
        size = len(cycle)
        if size == 1:
            left.append(cycle[0])
        elif size == 2:
            pairs.append((cycle[0], cycle[1]))
        else:
            w = [weight(cycle[i], cycle[(i + 1) % size]) for i in range(size)]
            if size % 2 == 0:
                pairs += _split_even(cycle, w)
            else:
                out, odd_pairs = _split_odd(cycle, w)
                left.append(out)
                pairs += odd_pairs
    return pairs, left
