"""Input validation: every bad field is reported with the participant and field it concerns."""

import json

import pytest

from bot.matching import ProblemError, Weights, problem_from_json


def doc(**overrides):
    base = {
        "mode": "peer",
        "seed": 3,
        "participants": [
            {"id": "U1", "timezone": "Europe/Berlin", "working_hours": ["09:00", "17:00"]},
            {"id": "U2", "name": "Sam", "timezone": "Asia/Tokyo", "interests": ["Go"]},
        ],
        "history": [{"members": ["U1", "U2"], "round": 4}],
    }
    base.update(overrides)
    return base


def test_parses_defaults_and_fields():
    problem = problem_from_json(doc(weights={"skill": 5, "prefer_same_department": True}))
    assert problem.mode == "peer" and problem.group_size == 2 and problem.avoid_repeat_rounds == 12
    assert problem.seed == 3 and problem.current_round == 5
    u2 = problem.participants[1]
    assert u2.display_name == "Sam" and u2.role == "peer" and u2.interests == ("Go",)
    assert problem.participants[0].display_name == "U1"
    assert problem.weights == Weights(skill=5, prefer_same_department=True)


@pytest.mark.parametrize(
    ("person", "pid", "field"),
    [
        ({"id": "U9", "role": "boss"}, "U9", "role"),
        ({"id": "U9", "timezone": "Mars/Olympus"}, "U9", "timezone"),
        ({"id": "U9", "role": "mentee"}, "U9", "role"),
        ({"id": "U9", "working_hours": ["9", "17:00"]}, "U9", "working_hours"),
        ({"id": "U9", "capacity": -1}, "U9", "capacity"),
        ({"id": "U9", "interests": "chess"}, "U9", "interests"),
        ({"id": "U9", "skills_offered": ["Go", 7]}, "U9", "skills_offered"),
        ({"id": "U9", "avoid": [None]}, "U9", "avoid"),
        ({"id": "U9", "paused": "yes"}, "U9", "paused"),
        ({"id": "U1"}, "U1", "id"),
    ],
)
def test_bad_participant_names_person_and_field(person, pid, field):
    data = doc()
    data["participants"].append(person)
    with pytest.raises(ProblemError) as err:
        problem_from_json(data)
    assert err.value.participant_id == pid and err.value.field == field
    assert pid in str(err.value) and field in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mode": "speed-dating"}, "mode"),
        ({"group_size": 9}, "group_size"),
        ({"participants": {}}, "participants"),
        ({"weights": {"charm": 1}}, "weights.charm"),
        ({"history": [{"members": ["U1"], "round": "x"}]}, "history[0].round"),
        ({"history": [{"members": ["U1"], "round": 1}, {"members": ["U2"], "round": -1}]}, "history[1].round"),
        ({"history": [{"members": ["U1"], "round": True}]}, "history[0].round"),
        ({"history": [{"members": ["U1"], "round": 1}, {"members": ["U2", 3], "round": 1}]}, "history[1].members"),
        ({"history": [{"members": "U1", "round": 1}]}, "history[0].members"),
        ({"history": [{"members": ["U1"], "round": 1}, ["U2"]]}, "history[1]"),
        ({"history": {"members": ["U1"]}}, "history"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_bad_top_level_fields(overrides, field):
    with pytest.raises(ProblemError) as err:
        problem_from_json(doc(**overrides))
    assert err.value.field == field and err.value.participant_id is None


def test_mentoring_needs_mentor_or_mentee_roles():
    data = doc(mode="mentoring")
    with pytest.raises(ProblemError) as err:
        problem_from_json(data)
    assert err.value.participant_id == "U1" and err.value.field == "role"


def test_lists_are_stripped_and_blank_items_dropped():
    data = doc()
    data["participants"][0]["interests"] = [" Chess ", "", "  ", "Go"]
    problem = problem_from_json(data)
    assert problem.participants[0].interests == ("Chess", "Go")


def test_history_members_reuse_the_participants_strings():
    problem = problem_from_json(json.loads(json.dumps(doc())))
    ids = {p.id: p.id for p in problem.participants}
    assert all(m is ids[m] for g in problem.history for m in g.members)
    assert problem.history[0].round == 4


@pytest.mark.parametrize(
    "groups",
    [
        [["U1", "U2"], ["U2", "U1"]],  # one size: tupled in bulk
        [["U1", "U2"], ["U1", "U2", "Gone"], [], ["U2"]],  # mixed sizes, an unknown id, an empty group
    ],
)
def test_history_groups_keep_their_members_and_rounds(groups):
    history = [{"members": g, "round": r} for r, g in enumerate(groups, start=1)]
    problem = problem_from_json(doc(history=history))
    assert [(list(g.members), g.round) for g in problem.history] == [(g, r) for r, g in enumerate(groups, start=1)]
