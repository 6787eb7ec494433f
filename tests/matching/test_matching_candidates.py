"""Candidate lists from the full scan in row chunks hold each person's true best partners."""

import numpy as np
import pytest

from bot.matching import MatchProblem, Participant, PastGroup, Weights
from bot.matching import candidates as cand
from bot.matching.features import build_features
from bot.matching.scoring import Scorer, score_matrix

ZONES = ["Europe/Berlin", "Asia/Kolkata", "America/Chicago", "Australia/Sydney"]


def _scorer(n: int, directed: bool, weights: Weights = Weights()) -> Scorer:
    people = [
        Participant(
            id=f"U{i:03d}",
            timezone=ZONES[i % 4],
            department=["", "Eng", "Ops", "Sales"][i % 4],
            interests=tuple(f"i{j}" for j in range(i % 5)),
            skills_offered=(f"s{i % 7}",),
            skills_wanted=(f"s{(i * 5) % 7}",),
            avoid=("U003",) if i == 1 else (),
        )
        for i in range(n)
    ]
    history = [PastGroup((f"U{i:03d}", f"U{(i + 2) % n:03d}"), 1 + i % 12) for i in range(n)]
    problem = MatchProblem("peer", tuple(people), history=tuple(history))
    feats = build_features(sorted(people, key=lambda p: p.id), problem.history)
    return Scorer(feats, weights, directed, problem.current_round, 6)


@pytest.mark.parametrize("directed", [False, True])
def test_chunks_keep_each_rows_true_top_k(monkeypatch, directed):
    monkeypatch.setattr(cand, "CHUNK_CELLS", 250)  # several rows per chunk, many chunks
    scorer = _scorer(150, directed)
    queries, targets = np.arange(0, 150, 3), np.arange(1, 150, 2)
    k = 6
    rows, cols, scores = cand.chunked_top_k(scorer, queries, targets, k, np.random.default_rng(1))
    pair_scores = scorer.pairs(cols, rows) if directed else scorer.pairs(rows, cols)
    assert np.array_equal(scores, pair_scores)  # the scorer's own float64 scores
    for q in queries:
        mine = rows == q
        assert mine.sum() <= k and len(set(cols[mine].tolist())) == mine.sum()
        full = (
            score_matrix(scorer, targets, np.array([q])).T[0]
            if directed
            else score_matrix(scorer, np.array([q]), targets)[0]
        )
        best = np.sort(full[np.isfinite(full)])[::-1][:k]
        assert np.array_equal(np.sort(scores[mine])[::-1], best)


def test_full_scan_lists_are_symmetric_for_peers(monkeypatch):
    monkeypatch.setattr(cand, "DENSE_PAIRS", 0)  # take the chunked path on a small pool
    monkeypatch.setattr(cand, "CHUNK_CELLS", 1000)
    scorer = _scorer(120, False)
    people = np.arange(120)
    rows, cols, _ = cand.candidate_lists(scorer, people, people, 5, np.random.default_rng(3), symmetric=True)
    edges = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert edges and all((b, a) in edges for a, b in edges)
    assert all(a != b for a, b in edges)


def test_float32_ranking_matrix_agrees_with_exact_scores():
    for weights in (Weights(), Weights(prefer_same_department=True)):
        scorer = _scorer(80, False, weights)
        people = np.arange(80)
        exact = score_matrix(scorer, people, people)
        fast = score_matrix(scorer, people, people, np.float32)
        finite = np.isfinite(exact)
        assert np.array_equal(finite, np.isfinite(fast))
        assert np.allclose(fast[finite], exact[finite], rtol=1e-6, atol=1e-3)


def test_symmetric_blocks_find_the_same_top_k_as_row_chunks(monkeypatch):
    monkeypatch.setattr(cand, "CHUNK_CELLS", 400)  # 20 x 20 blocks over 130 people
    scorer = _scorer(130, False)
    people = np.arange(130)
    k = 5
    blocks = cand.symmetric_top_k(scorer, people, k, np.random.default_rng(2))
    rows_ = cand.chunked_top_k(scorer, people, people, k, np.random.default_rng(2))
    assert np.array_equal(blocks[2], scorer.pairs(blocks[0], blocks[1]))
    for q in people:
        mine, theirs = blocks[0] == q, rows_[0] == q
        assert np.array_equal(np.sort(blocks[2][mine]), np.sort(rows_[2][theirs]))


def test_many_distinct_working_days_fall_back_to_the_product(monkeypatch):
    from bot.matching import features

    with_table = _scorer(60, False)
    monkeypatch.setattr(features, "MAX_DISTINCT_DAYS", 0)
    without = _scorer(60, False)
    assert with_table.f.hours_table is not None and without.f.hours_table is None
    people = np.arange(60)
    assert np.array_equal(score_matrix(with_table, people, people), score_matrix(without, people, people))
