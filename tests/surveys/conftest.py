"""Survey, content and icebreaker tests reuse the core harness (tests/core) on SQLite and PostgreSQL."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent / "core", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
