"""Tandem's matching engine: pure Python + NumPy/SciPy, no database and no chat platform.

Build a `MatchProblem` (or parse one with `problem_from_json`), call `solve`, read the `MatchResult`.
"""

from .engine import solve
from .problem import MatchProblem, Participant, PastGroup, ProblemError, Weights, problem_from_json
from .result import MatchGroup, MatchResult, MatchStats, Unmatched, result_to_json

__all__ = [
    "MatchGroup",
    "MatchProblem",
    "MatchResult",
    "MatchStats",
    "Participant",
    "PastGroup",
    "ProblemError",
    "Unmatched",
    "Weights",
    "problem_from_json",
    "result_to_json",
    "solve",
]
