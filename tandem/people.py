"""Simulated participants for the demo: varied names, zones, hours, skills and interests."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Luis",
    "Maya",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esra",
    "Farah",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
)
LAST_INITIALS = "ABCDEFGHIJKLMNOPRSTUVWYZ"
ZONES = (
    ("America/Los_Angeles", "09:00", "17:00"),
    ("America/New_York", "09:00", "17:30"),
    ("America/Sao_Paulo", "08:30", "17:00"),
    ("Europe/London", "09:00", "17:30"),
    ("Europe/Berlin", "08:30", "17:00"),
    ("Africa/Lagos", "08:00", "16:30"),
    ("Asia/Kolkata", "10:00", "18:30"),
    ("Asia/Tokyo", "09:30", "18:00"),
)
DEPARTMENTS = ("Engineering", "Design", "Sales", "Marketing", "Finance", "People", "Support", "Product")
SKILLS = (
    "Python",
    "public speaking",
    "SQL",
    "negotiation",
    "product strategy",
    "people management",
    "data visualisation",
    "writing",
    "user research",
    "budgeting",
    "Kubernetes",
    "hiring",
)
INTERESTS = (
    "climbing",
    "chess",
    "baking",
    "running",
    "photography",
    "board games",
    "gardening",
    "jazz",
    "cycling",
    "sci-fi",
    "podcasts",
    "yoga",
    "travel",
    "football",
)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    timezone: str
    work_start: str
    work_end: str
    role: str
    department: str
    skills_offered: tuple[str, ...]
    skills_wanted: tuple[str, ...]
    interests: tuple[str, ...]


def make_people(count: int, rng: random.Random, *, mentoring: bool = True) -> list[Person]:
    people = []
    for index in range(count):
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_INITIALS[(index // len(FIRST_NAMES)) % 24]}."
        zone, start, end = ZONES[rng.randrange(len(ZONES))]
        role = ("mentor" if rng.random() < 0.42 else "mentee") if mentoring else "peer"
        people.append(
            Person(
                user_id=f"U{index + 1:04d}",
                name=name,
                timezone=zone,
                work_start=start,
                work_end=end,
                role=role,
                department=rng.choice(DEPARTMENTS),
                skills_offered=tuple(rng.sample(SKILLS, 3)) if role != "mentee" else tuple(rng.sample(SKILLS, 1)),
                skills_wanted=tuple(rng.sample(SKILLS, 2)) if role != "mentor" else (),
                interests=tuple(rng.sample(INTERESTS, 3)),
            )
        )
    return people
