"""next_icebreaker: no repeats in a channel until the bank is used up, then a fresh cycle."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Icebreaker, load_library, next_icebreaker


@dataclass(frozen=True)
class CustomItem:
    """Stands in for an admin-added question stored in the database: it only needs an id."""

    id: str
    text: str = "custom"


def bank_of(size: int) -> list[CustomItem]:
    return [CustomItem(f"q-{n:03d}") for n in range(size)]


def draw_cycle(bank: list[CustomItem], rng: random.Random) -> list[str]:
    used: set[str] = set()
    picks: list[str] = []
    for _ in range(len(bank)):
        item, reset = next_icebreaker(bank, used, rng)
        assert not reset
        used.add(item.id)
        picks.append(item.id)
    return picks


def test_no_repeats_until_the_bank_is_used_up_then_reset() -> None:
    bank = bank_of(20)
    rng = random.Random(7)
    picks = draw_cycle(bank, rng)
    assert sorted(picks) == sorted(item.id for item in bank)
    item, reset = next_icebreaker(bank, set(picks), rng)
    assert reset is True
    assert item in bank


def test_full_library_cycle_covers_every_question() -> None:
    bank = list(load_library().icebreakers)
    used: set[str] = set()
    rng = random.Random(2024)
    for _ in range(len(bank)):
        item, reset = next_icebreaker(bank, used, rng)
        assert not reset and item.id not in used
        used.add(item.id)
    assert used == {item.id for item in bank}
    _, reset = next_icebreaker(bank, used, rng)
    assert reset


def test_same_seed_gives_the_same_sequence() -> None:
    bank = bank_of(30)
    assert draw_cycle(bank, random.Random(42)) == draw_cycle(bank, random.Random(42))
    assert draw_cycle(bank, random.Random(42)) != draw_cycle(bank, random.Random(43))


def test_new_cycle_does_not_open_with_the_question_that_closed_the_last() -> None:
    bank = bank_of(2)
    for seed in range(50):
        item, reset = next_icebreaker(bank, {"q-000", "q-001"}, random.Random(seed), last_id="q-001")
        assert reset and item.id == "q-000"


def test_single_item_bank_still_works() -> None:
    bank = bank_of(1)
    item, reset = next_icebreaker(bank, {"q-000"}, random.Random(1), last_id="q-000")
    assert item.id == "q-000" and reset


def test_library_and_custom_items_mix_and_stale_ids_are_ignored() -> None:
    library_items = list(load_library().icebreakers_in("fun")[:3])
    custom = [CustomItem("custom-1"), CustomItem("custom-2")]
    bank: list[Icebreaker | CustomItem] = [*library_items, *custom]
    used = {item.id for item in library_items} | {"custom-1", "deleted-custom-9"}
    item, reset = next_icebreaker(bank, used, random.Random(3))
    assert item == custom[1] and not reset


def test_duplicate_ids_in_the_bank_count_once() -> None:
    bank = [CustomItem("a", "first"), CustomItem("a", "second"), CustomItem("b")]
    item, reset = next_icebreaker(bank, {"b"}, random.Random(0))
    assert item.text == "first" and not reset


def test_empty_bank_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        next_icebreaker([], set(), random.Random(0))


@given(size=st.integers(min_value=1, max_value=40), seed=st.integers(), rounds=st.integers(1, 3))
def test_every_cycle_is_a_permutation_of_the_bank(size: int, seed: int, rounds: int) -> None:
    bank = bank_of(size)
    rng = random.Random(seed)
    used: set[str] = set()
    cycles: list[list[str]] = [[]]
    for _ in range(size * rounds):
        item, reset = next_icebreaker(bank, used, rng)
        if reset:
            used.clear()
            cycles.append([])
        assert item.id not in used
        used.add(item.id)
        cycles[-1].append(item.id)
    assert len(cycles) == rounds
    for cycle in cycles:
        assert sorted(cycle) == [item.id for item in bank]
