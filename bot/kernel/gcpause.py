"""Pausing Python's cyclic garbage collector while one step builds a great many objects at once.

A weekly round for 20k people creates hundreds of thousands of short-lived objects (rows, groups, message
blocks). Each time enough of them pile up the collector runs, and now and then it rescans every object the
process holds: a third of a big round's time went to that. Reference counting still frees everything as
usual; only the search for reference cycles waits until the step is over.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


class _Pause:
    depth = 0  # steps inside the pause right now (rounds of several programs may overlap on one loop)
    was_enabled = True  # was the collector on when the first of them paused it


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Within: no cyclic collection. The last step out turns it back on, if it was on before the first."""
    if _Pause.depth == 0:
        _Pause.was_enabled = gc.isenabled()
        gc.disable()
    _Pause.depth += 1
    try:
        yield
    finally:
        _Pause.depth -= 1
        if _Pause.depth == 0 and _Pause.was_enabled:
            gc.enable()
