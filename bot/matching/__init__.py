"""Placeholder matcher with the engine's JSON contract (replaced by the real engine)."""

from __future__ import annotations

import random
from typing import Any


def problem_from_json(data: dict[str, Any]) -> dict[str, Any]:
    return data


def solve(problem: dict[str, Any], exact: bool = False) -> dict[str, Any]:
    rng = random.Random(problem.get("seed", 0))
    people = [p for p in problem["participants"] if not p.get("paused")]
    groups, unmatched = [], []
    if problem["mode"] == "mentoring":
        mentors = [p for p in people if p["role"] == "mentor"]
        mentees = [p for p in people if p["role"] == "mentee"]
        slots = [m for m in mentors for _ in range(m.get("capacity", 1))]
        rng.shuffle(mentees)
        for mentor, mentee in zip(slots, mentees, strict=False):
            groups.append({"members": [mentor["id"], mentee["id"]], "score": 1.0, "reasons": []})
        for mentee in mentees[len(slots):]:
            unmatched.append({"id": mentee["id"], "reason": "All mentors are full this round."})
    else:
        rng.shuffle(people)
        for i in range(0, len(people) - 1, 2):
            groups.append({"members": [people[i]["id"], people[i + 1]["id"]], "score": 1.0, "reasons": []})
        if len(people) % 2 == 1 and groups:
            groups[-1]["members"].append(people[-1]["id"])
        elif len(people) == 1:
            unmatched.append({"id": people[0]["id"], "reason": "You were the only one available."})
    return {"groups": groups, "unmatched": unmatched, "stats": {"solver": "placeholder"}}


def result_to_json(result: dict[str, Any]) -> dict[str, Any]:
    return result
