"""Fixtures for content tests: a private copy of the library that a test may break."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import default_root

WriteFile = Callable[[str, str], Path]


@pytest.fixture
def library_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the real prompts/ directory in tmp_path (each test gets a fresh cache key)."""
    monkeypatch.delenv("TANDEM_PROMPTS_DIR", raising=False)
    target = tmp_path / "prompts"
    shutil.copytree(default_root(), target)
    return target


@pytest.fixture
def write(library_dir: Path) -> WriteFile:
    """Overwrite one file of the copied library with dedented YAML; returns its resolved path."""

    def _write(relative: str, text: str) -> Path:
        path = library_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path.resolve()

    return _write
