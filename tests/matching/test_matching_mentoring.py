"""Mentoring rounds: one mentor and one mentee per group, capacity, waitlist and reasons."""

from collections import Counter

from bot.matching import MatchProblem, Participant, PastGroup, solve


def mentor(pid, capacity=1, **kw):
    return Participant(id=pid, role="mentor", capacity=capacity, **kw)


def mentee(pid, **kw):
    return Participant(id=pid, role="mentee", **kw)


def problem(people, history=(), **kw):
    return MatchProblem("mentoring", tuple(people), history=tuple(history), **kw)


def test_skills_drive_the_assignment_and_mentor_comes_first():
    people = [
        mentor("M1", name="Sam", skills_offered=("Python",)),
        mentor("M2", name="Kai", skills_offered=("Sales",)),
        mentee("E1", skills_wanted=("sales",)),
        mentee("E2", skills_wanted=("python",)),
    ]
    result = solve(problem(people))
    assert [g.members for g in result.groups] == [("M1", "E2"), ("M2", "E1")]
    assert result.groups[0].reasons[0] == "Sam can help with Python"
    assert not result.unmatched


def test_capacity_and_waitlist():
    people = [mentor("M1", capacity=2), mentor("M2")] + [mentee(f"E{i}") for i in range(5)]
    result = solve(problem(people, seed=4))
    load = Counter(g.members[0] for g in result.groups)
    assert load["M1"] == 2 and load["M2"] == 1
    waiting = [u for u in result.unmatched if u.id.startswith("E")]
    assert len(waiting) == 2
    assert all("at capacity" in u.reason and "waitlist" in u.reason for u in waiting)
    assert sorted("first" in u.reason for u in waiting) == [False, True]


def test_mentors_share_the_load_before_doubling_up():
    people = [mentor("M1", capacity=3), mentor("M2", capacity=3), mentee("E1"), mentee("E2")]
    result = solve(problem(people))
    assert {g.members[0] for g in result.groups} == {"M1", "M2"}


def test_mentor_without_mentee_is_listed_with_a_reason():
    people = [mentor("M1"), mentor("M2"), mentee("E1")]
    result = solve(problem(people))
    assert len(result.groups) == 1
    (idle,) = result.unmatched
    assert idle.id in {"M1", "M2"} and "another mentor" in idle.reason


def test_no_mentors_at_all():
    result = solve(problem([mentee("E1"), mentee("E2")]))
    assert not result.groups
    assert all("No mentors" in u.reason for u in result.unmatched)


def test_avoid_and_repeat_rules():
    people = [mentor("M1"), mentor("M2"), mentee("E1", avoid=("M1",)), mentee("E2")]
    history = [PastGroup(("M2", "E2"), 3)]
    result = solve(problem(people, history))
    assert [g.members for g in result.groups] == [("M1", "E2"), ("M2", "E1")]
    assert result.stats.repeats == 0


def test_exact_flag_gives_same_optimum_on_small_pool():
    people = [mentor(f"M{i}", capacity=2, skills_offered=(f"s{i % 3}",)) for i in range(4)]
    people += [mentee(f"E{i}", skills_wanted=(f"s{i % 3}",), interests=(f"i{i % 2}",)) for i in range(9)]
    a, b = solve(problem(people)), solve(problem(people), exact=True)
    assert abs(a.stats.objective - b.stats.objective) < 1e-9
