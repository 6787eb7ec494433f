"""History members are resolved to indices by address when they share the participants' strings, by
value otherwise: both give the same answer."""

import numpy as np

from bot.matching.features import _member_indices


def test_members_found_by_address_and_by_value():
    people = ["U1", "U2", "U3"]
    index = {p: i for i, p in enumerate(people)}
    copy_of_u3 = "".join(["U", "3"])  # equal to "U3", another object
    assert copy_of_u3 is not people[2]
    members = [people[1], "Gone", copy_of_u3, people[0], people[1]]
    assert _member_indices(members, index).tolist() == [1, -1, 2, 0, 1]


def test_nothing_to_resolve():
    assert _member_indices([], {"U1": 0}).tolist() == []
    assert _member_indices(["U1"], {}).tolist() == [-1]
    assert _member_indices(["U1"], {}).dtype == np.int64
