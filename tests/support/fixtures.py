"""The one place tests find their recorded payloads: ``tests/fixtures``, relative to this file.

Every helper goes through here, so a fresh clone runs the same tests as any other checkout, and a
missing payload fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_path(*parts: str) -> Path:
    """The path of ``tests/fixtures/<parts...>``; raises when the file is not there (never a skip)."""
    path = FIXTURES.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"test fixture missing: tests/fixtures/{'/'.join(parts)}")
    return path


def read_text(*parts: str) -> str:
    """A fixture's text, byte for byte (form bodies have no trailing newline and must keep it that way)."""
    return fixture_path(*parts).read_text(encoding="utf-8")


def load_json(*parts: str) -> Any:
    """A JSON fixture, parsed; each call returns a fresh object that a test may change."""
    return json.loads(read_text(*parts))


def load(*parts: str) -> Any:
    """JSON fixtures parsed, anything else (``.form.txt``, ``.http``) as text."""
    return load_json(*parts) if parts[-1].endswith(".json") else read_text(*parts)
