"""Sparse candidate lists: the best k partners of each person, by exact pair score.

Small pools score every pair in one matrix. Mid-size pools (up to FULL_SCAN_PAIRS pairs, e.g. 10,000
mentees x 4,000 mentors or 10,000 peers) still score every pair, in row chunks of the BLAS score
matrix, keeping each row's true top k: sampling there cost up to 9 % of the optimum. Larger pools
first propose partners cheaply (people who share a token with you, people whose working day sits next
to yours, a few at random) and then score only those, so cost grows with n * proposals instead of
n squared.
"""

from __future__ import annotations

import numpy as np

from .features import Features
from .scoring import Scorer, score_matrix

DENSE_PAIRS = 4_000_000
# Score every pair (in chunks) up to this many pairs; beyond, sample proposals.
FULL_SCAN_PAIRS = 120_000_000
# Score-matrix cells per chunk: bounds the memory of a full scan (~8 bytes a cell, a few temporaries).
CHUNK_CELLS = 2_000_000
_SHIFT = 5e5
# Pairs scored per block when scoring sampled proposals (bounds the temporaries of `Scorer.pairs`).
PAIR_BLOCK = 1 << 18
# Proposals per person: holders per shared token, neighbours on the UTC clock, random picks.
PROPOSALS = (1, 6, 2)
# Above this many people, fewer proposals per person keep 50,000 people within seconds.
LARGE_POOL = 20_000


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted unique int64 keys (sort-based; faster than hashing for millions of keys)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def top_k(rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, k: int) -> tuple:
    """Keep the k best allowed (row, col) pairs per row, best first; ties keep the input order."""
    keep = np.isfinite(scores)
    if not keep.all():
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
    del keep
    if len(rows) == 0:
        return rows, cols, scores
    # One int64 sort key: row, then score descending quantised to 1e-3 (scores stay within +-5e5).
    # Built in place: at 50,000 people these arrays hold millions of entries.
    quant = np.subtract(_SHIFT, scores)
    quant *= 1000
    np.rint(quant, out=quant)
    np.clip(quant, 0, (1 << 30) - 1, out=quant)
    key = rows.astype(np.int64) * (1 << 30)
    key += quant.astype(np.int64)
    del quant
    order = np.argsort(key, kind="stable")
    del key
    rows, cols, scores = rows[order], cols[order], scores[order]
    del order
    start = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    counts = np.diff(np.r_[start, len(rows)])
    rank = np.arange(len(rows)) - np.repeat(start, counts)
    sel = rank < k
    return rows[sel], cols[sel], scores[sel]


def top_k_matrix(matrix: np.ndarray, queries: np.ndarray, targets: np.ndarray, k: int) -> tuple:
    """Top-k allowed (query, target, score) per row of a dense score matrix, best first."""
    k = min(k, matrix.shape[1])
    if k == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    part = (
        np.argpartition(-matrix, k - 1, axis=1)[:, :k]
        if k < matrix.shape[1]
        else np.tile(np.arange(matrix.shape[1]), (matrix.shape[0], 1))
    )
    rows = np.repeat(np.arange(matrix.shape[0]), k)
    cols = part.ravel()
    return top_k(queries[rows], targets[cols], matrix[rows, cols], k)


def chunked_top_k(scorer: Scorer, queries: np.ndarray, targets: np.ndarray, k: int, rng: np.random.Generator) -> tuple:
    """Top-k (query, target, score) per query over all targets, scored in row chunks.

    Each chunk ranks in float32; the kept pairs are then scored exactly, so the scores returned are
    the scorer's own. Equal scores at the cut are broken at random (by the seeded `rng`): taking the
    first ones would crowd everyone onto the same low-numbered partners. Directed scorers
    (mentoring) are called as (target=mentor, query=mentee).
    """
    step = max(1, CHUNK_CELLS // max(1, len(targets)))
    k = min(k, len(targets))
    if k == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    rows, cols = [], []
    for start in range(0, len(queries), step):
        chunk = queries[start : start + step]
        if scorer.directed:
            matrix = np.ascontiguousarray(score_matrix(scorer, targets, chunk, np.float32).T)
        else:
            matrix = score_matrix(scorer, chunk, targets, np.float32)
        r_pos, c_pos = _rows_at_or_above_kth(matrix, k)  # ties may add a few; top_k trims
        rows.append(chunk[r_pos])
        cols.append(targets[c_pos])
    shuffle = rng.permutation(sum(len(x) for x in rows))
    r, c = np.concatenate(rows)[shuffle], np.concatenate(cols)[shuffle]
    scores = scorer.pairs(c, r) if scorer.directed else scorer.pairs(r, c)
    return top_k(r, c, scores, k)


def _rows_at_or_above_kth(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) positions at or above each row's k-th best value (ties may add a few)."""
    k = min(k, matrix.shape[1])
    kth = np.partition(matrix, matrix.shape[1] - k, axis=1)[:, matrix.shape[1] - k]
    rows, cols = np.nonzero(matrix >= kth[:, None])
    return rows, cols


def symmetric_top_k(scorer: Scorer, people: np.ndarray, k: int, rng: np.random.Generator) -> tuple:
    """`chunked_top_k` of a pool against itself with a symmetric scorer, scoring each pair once.

    Square blocks on and above the diagonal are scored; each block gives the best k of its rows and of
    its columns, so every person's true top k is among the candidates (half the scoring work).
    """
    side = max(1, int(CHUNK_CELLS**0.5))
    rows, cols = [], []
    for i0 in range(0, len(people), side):
        block_rows = people[i0 : i0 + side]
        for j0 in range(i0, len(people), side):
            block_cols = people[j0 : j0 + side]
            block = score_matrix(scorer, block_rows, block_cols, np.float32)
            r, c = _rows_at_or_above_kth(block, k)
            rows.append(block_rows[r])
            cols.append(block_cols[c])
            if j0 != i0:  # the same block read the other way: the column people's best rows
                c, r = _rows_at_or_above_kth(np.ascontiguousarray(block.T), k)
                rows.append(block_cols[c])
                cols.append(block_rows[r])
    return _rescore(scorer, np.concatenate(rows), np.concatenate(cols), k, rng)


def _rescore(scorer: Scorer, r: np.ndarray, c: np.ndarray, k: int, rng: np.random.Generator) -> tuple:
    """Exact scores of candidate pairs (duplicates dropped), each row's best k, ties broken at random."""
    keys = _unique(r * scorer.n + c)
    keys = keys[rng.permutation(len(keys))]
    r, c = keys // scorer.n, keys % scorer.n
    return top_k(r, c, _pairs_in_blocks(scorer, c, r) if scorer.directed else _pairs_in_blocks(scorer, r, c), k)


def _symmetrise(rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, n: int) -> tuple:
    """Every kept pair in both directions, once each (a row may then hold more than k partners)."""
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    keys, first = np.unique(lo * n + hi, return_index=True)
    lo, hi, s = keys // n, keys % n, scores[first]
    return top_k(np.r_[lo, hi], np.r_[hi, lo], np.r_[s, s], len(rows) + 1)


def _token_incidence(words: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(person, token) pairs for every bit set in the people's bitsets."""
    bits = np.unpackbits(words[people].view(np.uint8), axis=1, bitorder="little")
    rows, tokens = np.nonzero(bits)
    return people[rows].astype(np.int64), tokens.astype(np.int64)


def _sample_holders(q_people, q_tokens, holders_people, holders_tokens, per_token, rng):
    """For each (query person, token) draw `per_token` random holders of that token."""
    if len(q_people) == 0 or len(holders_people) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(holders_tokens, kind="stable")
    h_people, h_tokens = holders_people[order], holders_tokens[order]
    n_tok = int(max(h_tokens.max(), q_tokens.max())) + 1
    counts = np.bincount(h_tokens, minlength=n_tok)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    has = counts[q_tokens] > 0
    qp, qt = np.repeat(q_people[has], per_token), np.repeat(q_tokens[has], per_token)
    pick = starts[qt] + (rng.random(len(qt)) * counts[qt]).astype(np.int64)
    return qp, h_people[pick]


def _centres(feats: Features, people: np.ndarray) -> np.ndarray:
    """Middle of each working day on the UTC clock, in quarter hours (circular mean of the mask)."""
    bits = np.unpackbits(feats.hours_w[people].view(np.uint8), axis=1, bitorder="little")[:, :96]
    angle = np.arange(96) * (2 * np.pi / 96)
    x, y = bits @ np.cos(angle), bits @ np.sin(angle)
    return (np.arctan2(y, x) % (2 * np.pi)) * (96 / (2 * np.pi))


def _token_matrix(feats: Features, people: np.ndarray, give: bool, directed: bool) -> np.ndarray:
    """Boolean person x token matrix: interests, then skills (offered, wanted or both)."""

    def bits(words: np.ndarray, size: int) -> np.ndarray:
        return np.unpackbits(words[people].view(np.uint8), axis=1, bitorder="little")[:, :size].astype(bool)

    n_i, n_s = len(feats.interest_vocab.display), len(feats.skill_vocab.display)
    skills = bits(feats.offered_w, n_s) if (give or not directed) else bits(feats.wanted_w, n_s)
    if not directed:
        skills |= bits(feats.wanted_w, n_s)
    return np.concatenate([bits(feats.interests_w, n_i), skills], axis=1)


def _signature_neighbours(
    feats: Features,
    queries: np.ndarray,
    targets: np.ndarray,
    directed: bool,
    rng: np.random.Generator,
    reps: int = 3,
    window: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Min-hash style proposals: sort everyone by their two lowest-ranked tokens (random ranks) and
    working-day centre, so neighbours in that order share two tokens and similar hours."""
    same = not directed
    people = queries if same else np.r_[queries, targets]
    is_target = np.ones(len(people), bool) if same else np.r_[np.zeros(len(queries), bool), np.ones(len(targets), bool)]
    tokens = _token_matrix(feats, people, give=False, directed=directed)
    if not same:
        tokens[len(queries) :] = _token_matrix(feats, targets, give=True, directed=directed)
    n_tok = tokens.shape[1]
    centre = _centres(feats, people).astype(np.int64)
    out_r, out_c = [], []
    for _ in range(reps):
        rank = rng.permutation(n_tok)
        ranked = np.where(tokens, rank[None, :].astype(np.int32), n_tok)
        first = ranked.min(axis=1)
        ranked[ranked == first[:, None]] = n_tok
        second = ranked.min(axis=1).astype(np.int64)
        key = (first.astype(np.int64) * (n_tok + 1) + second) * 96 + centre
        order = np.argsort(key, kind="stable")
        position = np.empty(len(people), dtype=np.int64)
        position[order] = np.arange(len(people))
        q_pos = position[: len(queries)] if not same else position
        for step in range(-window, window + 1):
            if step == 0:
                continue
            nb = order[np.clip(q_pos + step, 0, len(people) - 1)]
            ok = is_target[nb]
            out_r.append(queries[ok])
            out_c.append(people[nb[ok]])
    return np.concatenate(out_r), np.concatenate(out_c)


def proposals(
    feats: Features,
    queries: np.ndarray,
    targets: np.ndarray,
    directed: bool,
    rng: np.random.Generator,
    per_token: int | None = None,
    near: int | None = None,
    random_extra: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cheap partner proposals for each query among targets (may hold duplicates and self pairs)."""
    per_token = PROPOSALS[0] if per_token is None else per_token
    near = PROPOSALS[1] if near is None else near
    random_extra = PROPOSALS[2] if random_extra is None else random_extra
    rows, cols = [], []
    token_pairs = [(feats.interests_w, feats.interests_w)]  # your interests -> people who share them
    token_pairs.append((feats.wanted_w, feats.offered_w))  # skills you want -> people who offer them
    if not directed:
        token_pairs.append((feats.offered_w, feats.wanted_w))  # skills you offer -> people who want them
    for q_masks, t_masks in token_pairs:
        qp, qt = _token_incidence(q_masks, queries)
        tp, tt = _token_incidence(t_masks, targets)
        r, c = _sample_holders(qp, qt, tp, tt, per_token, rng)
        rows.append(r)
        cols.append(c)
    big = len(queries) > LARGE_POOL
    r, c = _signature_neighbours(feats, queries, targets, directed, rng, reps=2 if big else 5)
    rows.append(r)
    cols.append(c)
    nt = len(targets)
    t_centre = _centres(feats, targets)
    order = np.argsort(t_centre, kind="stable")
    sorted_targets, sorted_centres = targets[order], t_centre[order]
    pos = np.searchsorted(sorted_centres, _centres(feats, queries))
    offsets = rng.integers(-near, near + 1, size=(len(queries), near))
    rows.append(np.repeat(queries, near))
    cols.append(sorted_targets[(pos[:, None] + offsets).ravel() % nt])
    rows.append(np.repeat(queries, random_extra))
    cols.append(targets[rng.integers(0, nt, size=len(queries) * random_extra)])
    return np.concatenate(rows), np.concatenate(cols)


def candidate_lists(
    scorer: Scorer,
    queries: np.ndarray,
    targets: np.ndarray,
    k: int,
    rng: np.random.Generator,
    symmetric: bool,
    dense: bool | None = None,
    full_scan: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-k (row, col, score) per query, dense when the pool is small or `dense` asks for it.

    Past DENSE_PAIRS every pair is still scored in chunks up to FULL_SCAN_PAIRS unless `full_scan`
    is off (the re-pairing passes of very large rounds, where speed matters more).

    Directed scorers (mentoring) are called as (target=mentor, query=mentee).
    """
    if len(queries) == 0 or len(targets) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    if dense is None:
        dense = len(queries) * len(targets) <= DENSE_PAIRS
    if dense:
        matrix = score_matrix(scorer, targets, queries).T if scorer.directed else score_matrix(scorer, queries, targets)
        return top_k_matrix(matrix, queries, targets, k)
    if full_scan and len(queries) * len(targets) <= FULL_SCAN_PAIRS:
        if symmetric and queries is targets:
            rows, cols, scores = symmetric_top_k(scorer, queries, k, rng)
        else:
            rows, cols, scores = chunked_top_k(scorer, queries, targets, k, rng)
        return _symmetrise(rows, cols, scores, scorer.n) if symmetric else (rows, cols, scores)
    if symmetric:  # proposals passed straight on, so they can be freed as soon as they are deduplicated
        return _score_symmetric(scorer, *proposals(scorer.f, queries, targets, scorer.directed, rng), k)
    r, c = proposals(scorer.f, queries, targets, directed=scorer.directed, rng=rng)
    n = scorer.n
    keys = _unique(r * n + c)
    del r, c
    r, c = keys // n, keys % n
    s = _pairs_in_blocks(scorer, c, r) if scorer.directed else _pairs_in_blocks(scorer, r, c)
    return top_k(r, c, s, k)


def _pairs_in_blocks(scorer: Scorer, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`Scorer.pairs` a block at a time: the same scores, with its temporaries bounded in size."""
    if len(rows) <= PAIR_BLOCK:
        return scorer.pairs(rows, cols)
    out = np.empty(len(rows))
    for start in range(0, len(rows), PAIR_BLOCK):
        end = start + PAIR_BLOCK
        out[start:end] = scorer.pairs(rows[start:end], cols[start:end])
    return out


def _score_symmetric(scorer: Scorer, r: np.ndarray, c: np.ndarray, k: int) -> tuple:
    n = scorer.n
    keys = _unique(np.minimum(r, c) * n + np.maximum(r, c))
    del r, c
    lo, hi = keys // n, keys % n
    del keys
    s = _pairs_in_blocks(scorer, lo, hi)
    return top_k(np.r_[lo, hi], np.r_[hi, lo], np.r_[s, s], k)
