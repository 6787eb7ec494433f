"""Synthetic but realistic member profiles for benchmarks (and handy for manual testing).

Popularity of skills, interests and departments is skewed (a few are common, most are rare), people
sit in 14 time zones weighted like a company spread over the Americas, Europe and Asia-Pacific, a few
keep short avoid lists, some are paused, and the history holds earlier random rounds.
"""

from __future__ import annotations

import random

from bot.matching import MatchProblem, Participant, PastGroup

TIMEZONES = [
    ("America/Los_Angeles", 10),
    ("America/Denver", 3),
    ("America/Chicago", 6),
    ("America/New_York", 12),
    ("America/Sao_Paulo", 4),
    ("Europe/London", 10),
    ("Europe/Berlin", 14),
    ("Europe/Helsinki", 4),
    ("Africa/Lagos", 3),
    ("Asia/Kolkata", 10),
    ("Asia/Singapore", 6),
    ("Asia/Tokyo", 5),
    ("Australia/Sydney", 4),
    ("Pacific/Auckland", 2),
]
HOURS = [
    (("09:00", "17:00"), 60),
    (("08:00", "16:00"), 15),
    (("10:00", "18:00"), 15),
    (("07:30", "15:30"), 10),
]
DEPARTMENTS = [
    "Eng",
    "Sales",
    "Support",
    "Product",
    "Design",
    "Marketing",
    "Ops",
    "Finance",
    "HR",
    "Legal",
    "Data",
    "Security",
]
SKILLS = [f"skill-{i}" for i in range(60)]
INTERESTS = [f"interest-{i}" for i in range(80)]


def _zipf(items: list[str], s: float = 1.0) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(len(items))]


def _pick(rng: random.Random, items: list[str], weights: list[float], k: int) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        item = rng.choices(items, weights)[0]
        if item not in out:
            out.append(item)
    return out


def make_people(
    n: int,
    seed: int,
    role: str = "peer",
    prefix: str = "U",
    paused_share: float = 0.03,
    avoid_share: float = 0.01,
    capacity: int = 1,
) -> list[Participant]:
    rng = random.Random(seed)
    tz_names, tz_w = zip(*TIMEZONES, strict=True)
    hours, hours_w = zip(*HOURS, strict=True)
    skill_w, interest_w, dept_w = _zipf(SKILLS), _zipf(INTERESTS, 0.8), _zipf(DEPARTMENTS, 0.7)
    width = len(str(n))
    people = []
    for i in range(n):
        avoid = ()
        if rng.random() < avoid_share:
            avoid = tuple(f"{prefix}{rng.randrange(n):0{width}d}" for _ in range(rng.randint(1, 2)))
        people.append(
            Participant(
                id=f"{prefix}{i:0{width}d}",
                role=role,
                capacity=capacity,
                timezone=rng.choices(tz_names, tz_w)[0],
                working_hours=rng.choices(hours, hours_w)[0],
                department=rng.choices(DEPARTMENTS, dept_w)[0],
                skills_offered=tuple(_pick(rng, SKILLS, skill_w, rng.randint(0, 4))),
                skills_wanted=tuple(_pick(rng, SKILLS, skill_w, rng.randint(0, 3))),
                interests=tuple(_pick(rng, INTERESTS, interest_w, rng.randint(1, 5))),
                avoid=avoid,
                paused=rng.random() < paused_share,
            )
        )
    return people


def random_history(ids: list[str], rounds: int, seed: int, size: int = 2) -> list[PastGroup]:
    """Earlier rounds drawn as random shuffles (what a naive tool would have produced)."""
    rng = random.Random(seed)
    out: list[PastGroup] = []
    for rnd in range(1, rounds + 1):
        order = list(ids)
        rng.shuffle(order)
        for s in range(0, len(order) - size + 1, size):
            out.append(PastGroup(tuple(order[s : s + size]), rnd))
    return out


def peer_problem(n: int, seed: int = 1, rounds: int = 12, group_size: int = 2) -> MatchProblem:
    people = make_people(n, seed)
    history = random_history([p.id for p in people], rounds, seed + 1, group_size)
    return MatchProblem("peer", tuple(people), group_size=group_size, seed=seed, history=tuple(history))


def mentoring_problem(
    n_mentees: int, n_mentors: int, capacity: int = 3, seed: int = 1, rounds: int = 6
) -> MatchProblem:
    mentees = make_people(n_mentees, seed, role="mentee", prefix="E")
    mentors = make_people(n_mentors, seed + 7, role="mentor", prefix="M", capacity=capacity)
    rng = random.Random(seed + 3)
    history = [
        PastGroup((rng.choice(mentors).id, rng.choice(mentees).id), rnd)
        for rnd in range(1, rounds + 1)
        for _ in range(n_mentees // 4)
    ]
    return MatchProblem("mentoring", tuple(mentors + mentees), seed=seed, history=tuple(history))
