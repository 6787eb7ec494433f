"""Output model of a round and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MatchGroup:
    """People who meet this round. In mentoring the mentor comes first."""

    members: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Someone who sits this round out, with a sentence the bot can send them."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MatchStats:
    """How the round was solved: objective is the sum of group scores; repeats count in-window pairs."""

    objective: float
    repeats: int
    elapsed_s: float
    solver: str
    seed: int = 0


@dataclass(frozen=True, slots=True)
class MatchResult:
    groups: list[MatchGroup] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    stats: MatchStats = field(default_factory=lambda: MatchStats(0.0, 0, 0.0, "none"))


def result_to_json(result: MatchResult) -> dict:
    """The CLI's output document (see docs/matching.md)."""
    return {
        "groups": [
            {"members": list(g.members), "score": round(g.score, 3), "reasons": list(g.reasons)} for g in result.groups
        ],
        "unmatched": [{"id": u.id, "reason": u.reason} for u in result.unmatched],
        "stats": {
            "objective": round(result.stats.objective, 3),
            "repeats": result.stats.repeats,
            "elapsed_s": round(result.stats.elapsed_s, 4),
            "solver": result.stats.solver,
            "seed": result.stats.seed,
        },
    }
