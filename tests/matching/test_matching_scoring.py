"""The scalar and vectorised pair scores must agree exactly; the repeat penalty must fade."""

import numpy as np

from bot.matching import MatchProblem, Participant, PastGroup, Weights
from bot.matching.features import build_features
from bot.matching.scoring import REPEAT_BASE, Scorer


def _scorer(people, history=(), directed=False, weights=Weights(), window=12):
    problem = MatchProblem("peer", tuple(people), history=tuple(history))
    feats = build_features(sorted(people, key=lambda p: p.id), problem.history)
    return Scorer(feats, weights, directed, problem.current_round, window)


def test_scalar_and_vector_agree():
    zones = ["Europe/Berlin", "Asia/Kolkata", "America/Chicago", "Australia/Sydney"]
    people = [
        Participant(
            id=f"U{i:02d}",
            timezone=zones[i % 4],
            department=["", "Eng", "Ops"][i % 3],
            interests=tuple(f"i{j}" for j in range(i % 4)),
            skills_offered=(f"s{i % 5}",),
            skills_wanted=(f"s{(i * 7) % 5}",),
            avoid=("U03",) if i == 1 else (),
        )
        for i in range(70)
    ]
    history = [PastGroup((f"U{i:02d}", f"U{(i + 1) % 70:02d}"), 1 + i % 20) for i in range(70)]
    for directed in (False, True):
        scorer = _scorer(people, history, directed)
        rows, cols = np.repeat(np.arange(70), 70), np.tile(np.arange(70), 70)
        vector = scorer.pairs(rows, cols)
        scalar = np.array([scorer.pair(int(a), int(b)) for a, b in zip(rows, cols, strict=True)])
        assert np.array_equal(vector, scalar)


def test_repeat_penalty_fades_and_window_is_hard():
    people = [Participant(id="A"), Participant(id="B")]
    fresh = _scorer(people, [PastGroup(("X", "Y"), 20)]).pair(0, 1)
    penalty = []
    for last in (20, 15, 10, 1):  # the round being matched is 21: ages 1, 6, 11, 20
        scorer = _scorer(people, [PastGroup(("A", "B"), last), PastGroup(("X", "Y"), 20)])
        penalty.append(fresh - scorer.pair(0, 1))
    assert penalty[0] > penalty[1] > penalty[2] > REPEAT_BASE  # inside the window: hard, newest worst
    assert 0 < penalty[3] < Weights().repeat  # outside the window only a faded soft penalty is left


def test_department_preference_is_configurable():
    people = [Participant(id="A", department="Eng"), Participant(id="B", department="Eng")]
    assert (
        _scorer(people).pair(0, 1)
        == _scorer(people, weights=Weights(prefer_same_department=True)).pair(0, 1) - Weights().department
    )


def test_score_matrix_matches_scalar_scores():
    from bot.matching.scoring import score_matrix

    zones = ["Europe/Berlin", "Asia/Kolkata", "America/Chicago"]
    people = [
        Participant(
            id=f"U{i:02d}",
            timezone=zones[i % 3],
            department=["", "Eng", "Ops"][i % 3],
            interests=tuple(f"i{j}" for j in range(i % 4)),
            skills_offered=(f"s{i % 5}",),
            skills_wanted=(f"s{(i * 7) % 5}",),
            avoid=("U03",) if i == 1 else (),
        )
        for i in range(40)
    ]
    history = [PastGroup((f"U{i:02d}", f"U{(i + 3) % 40:02d}"), 1 + i % 20) for i in range(40)]
    for directed in (False, True):
        scorer = _scorer(people, history, directed)
        rows, cols = np.arange(0, 40, 2), np.arange(40)
        matrix = score_matrix(scorer, rows, cols)
        expected = np.array([[scorer.pair(int(a), int(b)) for b in cols] for a in rows])
        assert np.array_equal(matrix, expected)
