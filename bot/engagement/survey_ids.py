"""The survey and question ids the code relies on, by name (the texts live in prompts/surveys.yaml).

Survey ids are the library's (:mod:`bot.content.library` checks they exist when it loads); question ids and
answer values named here are the ones the bot acts on: meeting reported, pulse rating, not a good fit.
"""

from __future__ import annotations

from bot.content.library import DID_YOU_MEET, END_OF_PROGRAM, GOOD_FIT, MIDPOINT, PULSE

__all__ = [
    "DID_YOU_MEET",
    "END_OF_PROGRAM",
    "FIT",
    "GOOD_FIT",
    "MATCH_RATING",
    "MET",
    "MIDPOINT",
    "NOT_A_FIT",
    "PULSE",
    "YES",
]

MET = "met"  # did_you_meet: "Did you meet?"
YES = "yes"  # its answer that marks the match as met
MATCH_RATING = "match_rating"  # pulse: 1-5 rating of the match
FIT = "fit"  # good_fit: "Is this a good fit?"
NOT_A_FIT = "not_a_fit"  # its answer that flags the pair for admins
