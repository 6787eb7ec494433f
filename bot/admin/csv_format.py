"""How Tandem writes CSV: UTC ISO times, lists joined with "; ", and nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import datetime

LIST_SEPARATOR = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (=HYPERLINK…) gets a leading apostrophe; imports strip it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: tuple[str, ...] | list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue()
