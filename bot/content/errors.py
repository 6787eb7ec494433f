"""Errors raised while loading the content library.

Content is edited by hand, often by people who are not programmers, so every problem is reported
with the file and line to open instead of a stack trace or a raw pydantic dump.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a content file, pointing at the place an editor should look."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}, line {self.line}: {self.message}"


class ContentError(ValueError):
    """The content library is invalid; ``issues`` lists every problem found, in file order.

    All problems are collected before raising so that an editor can fix a file in one pass.
    """

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        if not self.issues:
            raise ValueError("ContentError needs at least one issue")
        super().__init__("\n".join(str(issue) for issue in self.issues))
