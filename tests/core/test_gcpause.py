"""The collector pause nests (overlapping rounds) and leaves the collector as it found it."""

from __future__ import annotations

import gc

from bot.kernel.gcpause import collector_paused


def test_nested_pauses_turn_the_collector_back_on_only_at_the_last_exit() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the outer step is still running"
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_and_an_error_still_ends_the_pause() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with collector_paused():
            raise ValueError("step failed")
    except ValueError:
        pass
    assert gc.isenabled()
