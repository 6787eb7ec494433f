"""Hand-made peer rounds: odd counts, lonely people, exclusions, repeats and reasons."""

import pytest

from bot.matching import MatchProblem, Participant, PastGroup, solve
from bot.matching.engine import solve_with
from bot.matching.problem import Weights


def peer(pid, **kw):
    return Participant(id=pid, **kw)


def problem(people, history=(), **kw):
    return MatchProblem("peer", tuple(people), history=tuple(history), **kw)


def placed(result):
    ids = [m for g in result.groups for m in g.members] + [u.id for u in result.unmatched]
    return sorted(ids)


@pytest.mark.parametrize("strategy", ["auto", "heuristic"])
def test_five_peers_give_a_pair_and_a_trio(strategy):
    result = solve_with(problem([peer(f"U{i}") for i in range(5)]), strategy)
    assert sorted(len(g.members) for g in result.groups) == [2, 3]
    assert placed(result) == [f"U{i}" for i in range(5)] and not result.unmatched


def test_single_participant_is_told_why():
    result = solve(problem([peer("U1"), peer("U2", paused=True)]))
    assert result.groups == []
    assert [u.id for u in result.unmatched] == ["U1"]
    assert "only person" in result.unmatched[0].reason


def test_everyone_excluded_by_avoid_lists():
    people = [peer("U1", avoid=("U2", "U3")), peer("U2"), peer("U3", avoid=("U2",))]
    result = solve(problem(people))
    assert result.groups == []
    assert {u.id for u in result.unmatched} == {"U1", "U2", "U3"}
    assert all("avoid list" in u.reason for u in result.unmatched)


def test_avoid_applies_in_both_directions():
    people = [peer("A", avoid=("B",)), peer("B"), peer("C"), peer("D")]
    for strategy in ("exact", "heuristic"):
        result = solve_with(problem(people), strategy)
        for g in result.groups:
            assert not {"A", "B"} <= set(g.members)


def test_paused_people_never_appear():
    people = [peer("U1"), peer("U2", paused=True), peer("U3"), peer("U4")]
    result = solve(problem(people))
    assert "U2" not in placed(result)
    assert placed(result) == ["U1", "U3", "U4"]


def test_recent_partners_are_not_repeated():
    people = [peer(p, interests=("chess",)) for p in "ABCD"]
    history = [PastGroup(("A", "B"), 1), PastGroup(("C", "D"), 1)]
    for strategy in ("exact", "heuristic"):
        result = solve_with(problem(people, history), strategy)
        assert result.stats.repeats == 0
        pairs = {frozenset(g.members) for g in result.groups}
        assert frozenset("AB") not in pairs and frozenset("CD") not in pairs


def test_forced_repeat_is_the_oldest_one():
    people = [peer(p) for p in "ABCD"]
    # Every possible pairing repeats someone; A-C/B-D met longest ago.
    history = [
        PastGroup(("A", "B"), 5),
        PastGroup(("C", "D"), 5),
        PastGroup(("A", "D"), 4),
        PastGroup(("B", "C"), 4),
        PastGroup(("A", "C"), 2),
        PastGroup(("B", "D"), 2),
    ]
    for strategy in ("exact", "heuristic"):
        result = solve_with(problem(people, history), strategy)
        assert {frozenset(g.members) for g in result.groups} == {frozenset("AC"), frozenset("BD")}
        assert result.stats.repeats == 2


def test_fewest_repeats_when_some_are_unavoidable():
    people = [peer(p) for p in "ABCD"]
    history = [PastGroup(("A", "B"), 9), PastGroup(("A", "C"), 9)]
    result = solve(problem(people, history))
    assert result.stats.repeats == 0
    assert {frozenset(g.members) for g in result.groups} == {frozenset("AD"), frozenset("BC")}


def test_reasons_use_names_and_second_person():
    people = [
        peer(
            "U1",
            name="Ana",
            interests=("climbing",),
            skills_wanted=("Python",),
            department="Eng",
            timezone="Europe/Berlin",
        ),
        peer(
            "U2",
            name="Sam",
            interests=("Climbing",),
            skills_offered=("python",),
            department="Sales",
            timezone="Europe/Berlin",
            working_hours=("12:00", "20:00"),
        ),
    ]
    (group,) = solve(problem(people)).groups
    assert group.reasons[0] == "Sam can help with python"
    assert "You both like climbing" in group.reasons
    assert "5 h of shared working hours" in group.reasons
    assert len(group.reasons) <= 3


def test_cross_time_zone_pool_prefers_overlap():
    people = [
        peer("LA1", timezone="America/Los_Angeles"),
        peer("LA2", timezone="America/Los_Angeles"),
        peer("TK1", timezone="Asia/Tokyo"),
        peer("TK2", timezone="Asia/Tokyo"),
    ]
    result = solve(problem(people))
    pairs = {frozenset(g.members) for g in result.groups}
    assert pairs == {frozenset(["LA1", "LA2"]), frozenset(["TK1", "TK2"])}


@pytest.mark.parametrize(
    ("size", "n", "expected"), [(3, 7, [3, 4]), (4, 9, [4, 5]), (3, 2, [2]), (8, 5, [5]), (3, 11, [3, 4, 4])]
)
def test_group_sizes(size, n, expected):
    for strategy in ("auto", "heuristic"):
        result = solve_with(problem([peer(f"U{i}") for i in range(n)], group_size=size), strategy)
        assert sorted(len(g.members) for g in result.groups) == expected


def test_heuristic_matches_exact_on_small_pools():
    people = [
        peer(
            f"U{i}",
            interests=(f"i{i % 3}", f"i{i % 5}"),
            skills_offered=(f"s{i % 4}",),
            skills_wanted=(f"s{(i + 1) % 4}",),
            department=f"d{i % 3}",
            timezone=["Europe/Berlin", "America/New_York", "Asia/Tokyo"][i % 3],
        )
        for i in range(16)
    ]
    exact = solve_with(problem(people, seed=1), "exact")
    heuristic = solve_with(problem(people, seed=1), "heuristic")
    assert heuristic.stats.objective >= 0.99 * exact.stats.objective
    assert heuristic.stats.objective <= exact.stats.objective + 1e-9


def test_smaller_group_when_avoid_lists_block_the_only_group():
    people = [peer("A"), peer("B", avoid=("A",)), peer("C")]
    result = solve(problem(people, group_size=8))
    assert len(result.groups) == 1 and len(result.groups[0].members) == 2
    assert len(result.unmatched) == 1 and "couldn't fit you" in result.unmatched[0].reason


def test_a_forced_repeat_is_said_plainly_in_the_reasons():
    result = solve(problem([peer("A", name="Ana"), peer("B", name="Ben")], history=[PastGroup(("A", "B"), 3)]))
    (group,) = result.groups
    assert group.reasons[0] == (
        "You were matched before (round 3): this round there was nobody new left to pair you with"
    )
    assert result.stats.repeats == 1


def test_an_old_meeting_outside_the_window_and_a_trio_repeat_are_named():
    old = solve(problem([peer("A"), peer("B")], history=[PastGroup(("A", "B"), 1), PastGroup(("A", "C"), 20)]))
    assert old.groups[0].reasons[0] == "It's been a while: you last met in round 1"
    trio = solve(
        problem(
            [peer("A", name="Ana"), peer("B", name="Ben"), peer("C", name="Cy")], history=[PastGroup(("A", "C"), 5)]
        )
    )
    assert trio.groups[0].reasons[0].startswith("Ana and Cy were matched before (round 5)")


def test_fresh_pairs_carry_no_repeat_note():
    result = solve(problem([peer("A"), peer("B"), peer("C"), peer("D")], history=[PastGroup(("A", "B"), 1)]))
    assert not any("before" in r or "a while" in r for g in result.groups for r in g.reasons)


def test_repeat_repair_may_move_either_person_of_the_repeated_pair():
    """Found by hypothesis: moving U0 out of the trio breaks an avoid or repeats again; moving U2 fixes it."""
    people = [
        peer("U0"),
        peer("U1", paused=True),
        peer("U2"),
        peer("U3"),
        peer("U4"),
        peer("U5", paused=True),
        peer("U6", avoid=("U4",)),
    ]
    history = [PastGroup(("U0", "U2"), 1), PastGroup(("U6", "U0"), 1)]
    for strategy in ("exact", "heuristic"):
        result = solve_with(problem(people, history), strategy)
        assert result.stats.repeats == 0, (strategy, result.groups)


def test_someone_who_must_sit_out_anyway_sits_out_rather_than_a_repeat():
    """Found by hypothesis: U2 can only meet U1, and U0 met U1 last round; one of the three sits out."""
    people = [peer("U0"), peer("U1"), peer("U2", avoid=("U0",)), peer("U3", paused=True)]
    for strategy in ("exact", "heuristic"):
        result = solve_with(problem(people, [PastGroup(("U0", "U1"), 1)], group_size=3), strategy)
        assert result.stats.repeats == 0, (strategy, result.groups)
        assert [u.id for u in result.unmatched] == ["U0"]


def test_an_oversized_group_splits_to_keep_a_repeated_pair_apart():
    """Found by hypothesis: U1 fits only with U2 and U9, so the others pile into one group of five with a repeat."""
    people = [
        peer("U1", avoid=("U4",)),
        peer("U2"),
        peer("U3", avoid=("U1",)),
        peer("U4"),
        *(peer(f"U{i}", avoid=("U1",)) for i in (5, 6, 7)),
        peer("U9"),
    ]
    result = solve_with(problem(people, [PastGroup(("U3", "U4"), 1)], group_size=3), "heuristic")
    assert result.stats.repeats == 0 and not result.unmatched
    assert max(len(g.members) for g in result.groups) <= 4


def _far_apart_friends():
    likes = ("chess", "climbing", "jazz")
    return [
        peer("LA1", timezone="America/Los_Angeles", interests=likes),
        peer("TK1", timezone="Asia/Tokyo", interests=likes),
        peer("LA2", timezone="America/Los_Angeles", interests=("golf", "rust", "tea")),
        peer("TK2", timezone="Asia/Tokyo", interests=("golf", "rust", "tea")),
    ]


@pytest.mark.parametrize("strategy", ["auto", "heuristic", "exact"])
def test_pairs_without_shared_hours_are_avoided_when_another_good_pairing_exists(strategy):
    result = solve_with(problem(_far_apart_friends()), strategy)
    pairs = {frozenset(g.members) for g in result.groups}
    assert pairs == {frozenset(["LA1", "LA2"]), frozenset(["TK1", "TK2"])}, "shared interests don't beat no hours"
    relaxed = solve_with(problem(_far_apart_friends(), weights=Weights(min_shared_hours=0)), strategy)
    assert {frozenset(g.members) for g in relaxed.groups} == {frozenset(["LA1", "TK1"]), frozenset(["LA2", "TK2"])}


def test_a_pair_without_shared_hours_is_still_matched_when_nothing_else_exists():
    result = solve(problem(_far_apart_friends()[:2]))
    assert [sorted(g.members) for g in result.groups] == [["LA1", "TK1"]] and not result.unmatched
