"""Short human sentences for intro messages and for people who could not be matched.

Group reasons are ranked by how much each fact adds to the score under the program's weights, so the
intro leads with what actually drove the match. At most three are kept.
"""

from __future__ import annotations

from itertools import combinations

from .features import Features
from .overlap import shared_hours
from .problem import Participant, Weights

MAX_REASONS = 3


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _spelled(words: tuple[str, ...], ids: dict[str, int], keys: int) -> list[str]:
    """The words (first spelling, in order, once each) whose case-folded token is set in `keys`."""
    return [w for w in dict.fromkeys(words) if keys >> ids[w.casefold()] & 1]


def _common(feats: Features, members: list[int]) -> list[str]:
    """Interests every member shares (case-insensitive), spelled as by the first member."""
    keys = -1
    for m in members:
        keys &= feats.interests[m]
    if not keys:
        return []
    return _spelled(feats.people[members[0]].interests, feats.interest_vocab.ids, keys)


def _helps(feats: Features, giver: int, takers: list[int]) -> list[str]:
    """Skills the giver offers that any of the takers wants."""
    wanted = 0
    for t in takers:
        wanted |= feats.wanted[t]
    keys = feats.offered[giver] & wanted
    if not keys:
        return []
    return _spelled(feats.people[giver].skills_offered, feats.skill_vocab.ids, keys)


def _hours_text(h: float) -> str:
    text = f"{h:.0f}" if h == int(h) else f"{h:.2f}".rstrip("0")
    return f"{text} h of shared working hours"


Scored = tuple[float, str]


def _interest_reason(feats: Features, members: list[int], weights: Weights, everyone: str) -> list[Scored]:
    """Interests all members share; in a bigger group without any, the first pair that shares some."""
    shared = _common(feats, members)
    if shared:
        return [(weights.interest * len(shared), f"You {everyone} like {_join(shared[:2])}")]
    if len(members) <= 2:
        return []
    for a, b in combinations(members, 2):
        pair_shared = _common(feats, [a, b])
        if pair_shared:
            names = feats.people[a].display_name, feats.people[b].display_name
            text = f"{names[0]} and {names[1]} both like {_join(pair_shared[:2])}"
            return [(weights.interest * len(pair_shared), text)]
    return []


def _skill_reasons(feats: Features, members: list[int], weights: Weights, mentoring: bool) -> list[Scored]:
    """Who can teach the others what they want to learn; in mentoring only the mentor teaches."""
    found: list[Scored] = []
    givers = members[:1] if mentoring else members
    for giver in givers:
        skills = _helps(feats, giver, [m for m in members if m != giver])
        if skills:
            text = f"{feats.people[giver].display_name} can help with {_join(skills[:2])}"
            found.append((weights.skill * len(skills), text))
    return found


def _hours_reason(masks: list[int], weights: Weights) -> list[Scored]:
    """Shared working hours, worth mentioning from one hour up."""
    hours = shared_hours(*masks)
    if hours < 1:
        return []
    return [(weights.overlap_per_hour * min(hours, weights.overlap_cap_hours), _hours_text(hours))]


def _department_reason(members: list[Participant], weights: Weights, everyone: str) -> list[Scored]:
    """Departments, when everyone's is known and they meet the program's same-or-different preference."""
    if not all(m.department for m in members):
        return []
    depts = list(dict.fromkeys(m.department for m in members if m.department))
    if len(depts) == len(members) and not weights.prefer_same_department:
        return [(weights.department, f"You work in different teams: {_join(depts)}")]
    if len({d.casefold() for d in depts}) == 1 and weights.prefer_same_department:
        return [(weights.department, f"You {everyone} work in {depts[0]}")]
    return []


def group_reasons(feats: Features, members: list[int], weights: Weights, mentoring: bool) -> tuple[str, ...]:
    """Why these people (indices into `feats`) were put together, best first. In mentoring, members[0]
    is the mentor. Shared interests and skills come from the round's bitsets, so a pair without any
    costs a few integer ANDs."""
    everyone = "both" if len(members) == 2 else "all"
    found = (
        _interest_reason(feats, members, weights, everyone)
        + _skill_reasons(feats, members, weights, mentoring)
        + _hours_reason([feats.hours[m] for m in members], weights)
        + _department_reason([feats.people[m] for m in members], weights, everyone)
    )
    found.sort(key=lambda item: -item[0])
    reasons = [text for _, text in found[:MAX_REASONS]]
    return tuple(reasons) if reasons else ("A fresh face: you haven't been matched recently",)


def repeat_note(names: tuple[str, str] | None, last_round: int, in_window: bool) -> str:
    """Said plainly when a group repeats an earlier match: nobody should think the bot forgot.

    ``names`` is None for a pair (the intro speaks to both); in a larger group it names the two."""
    who = "You" if names is None else f"{names[0]} and {names[1]}"
    if in_window:
        return (
            f"{who} were matched before (round {last_round}): this round there was nobody new left "
            f"to pair {'you' if names is None else 'them'} with"
        )
    return f"It's been a while: {who.lower() if names is None else who} last met in round {last_round}"


ALONE = "You were the only person available this round."
EXCLUDED = (
    "Everyone else in this round is on your avoid list or can't be paired with you, "
    "so there was nobody to match you with. You'll be included again next round."
)
NO_FIT = (
    "We couldn't fit you into a group this round without breaking someone's matching rules. "
    "You'll be included again next round."
)
NO_MENTORS = "No mentors are available this round; you're {place} on the waitlist for the next round."
MENTORS_FULL = "All mentors are at capacity this round; you're {place} on the waitlist for the next round."
MENTORS_EXCLUDED = (
    "None of this round's mentors can be paired with you; you're {place} on the waitlist for the next round."
)
MENTOR_NO_MENTEES = "There were no mentees looking for a mentor this round."
MENTOR_ZERO_CAPACITY = "Your mentoring capacity is set to 0, so no mentee was assigned to you."
MENTOR_ALL_TAKEN = "Every mentee this round was matched with another mentor; you'll be considered first next round."
MENTOR_EXCLUDED = "None of this round's mentees can be paired with you, so no mentee was assigned to you."


def place_text(position: int) -> str:
    """'first', 'second', ... for the waitlist message."""
    words = ["first", "second", "third", "fourth", "fifth"]
    return words[position - 1] if position <= len(words) else f"number {position}"
