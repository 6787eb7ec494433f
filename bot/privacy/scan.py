"""One generic pass over every column of every table (``SQLModel.metadata``): find a person, or scrub them.

Working from the metadata rather than a list of tables means a table another feature adds later is read by
``my data`` and cleaned by ``forget me`` without anyone remembering to add it here. Rows point at a person
either by a foreign key to their user row or by carrying one of their traces (id, name, e-mail, free text)
in a text or JSON column; a cheap SQL filter picks candidate rows and Python confirms and rewrites them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    cast,
    false,
    or_,
    select,
    update,
)
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy.traces import Traces

USER_TABLE = "tandem_user"
# Rows that point at a person but are not theirs to see: someone else's private 'never match me with'.
NOT_THEIRS = {("avoidance", "avoided_user_id")}
WITHHELD = "(withheld: a credential, not data about you)"


def tables() -> list[Table]:
    """Every table Tandem has, in dependency order (import storage.tables first so all are registered)."""
    import storage.tables  # noqa: F401  (registers every table on SQLModel.metadata)

    return list(SQLModel.metadata.sorted_tables)


def _type(column: Column[Any]) -> Any:
    """The column's storage type, seen through decorators (sqlmodel's AutoString is one)."""
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _is_text(column: Column[Any]) -> bool:
    return isinstance(_type(column), String | Text)


def _is_json(column: Column[Any]) -> bool:
    return isinstance(_type(column), JSON)


def _is_secret(column: Column[Any]) -> bool:
    name = column.name.lower()
    return "token" in name or "secret" in name or name == "salt" or isinstance(_type(column), LargeBinary)


def _user_keys(table: Table) -> list[Column[Any]]:
    """Columns that hold a user row's id: foreign keys to it (and the user table's own key)."""
    if table.name == USER_TABLE:
        return [table.c.id]
    return [
        c
        for c in table.columns
        if any(fk.column.table.name == USER_TABLE for fk in c.foreign_keys) and (table.name, c.name) not in NOT_THEIRS
    ]


def _text_filter(table: Table, needles: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Candidate rows: a text column containing a needle, or a JSON column containing it (as JSON writes it)."""
    conditions: list[ColumnElement[bool]] = []
    for column in table.columns:
        if _is_text(column):
            conditions += [column.contains(n, autoescape=True) for n in needles]
        elif _is_json(column):
            as_text = cast(column, Text)
            for needle in needles:
                forms = {json.dumps(needle)[1:-1], json.dumps(needle, ensure_ascii=False)[1:-1]}
                conditions += [as_text.contains(f, autoescape=True) for f in forms]
    return conditions


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _walk(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def carries(traces: Traces, value: Any) -> bool:
    """Whether a column value holds one of the person's traces (anywhere inside JSON too)."""
    return any(traces.matches(text) for text in _walk(value))


async def _candidates(session: AsyncSession, table: Table, traces: Traces) -> list[dict[str, Any]]:
    keys = _user_keys(table)
    conditions = [c == traces.user_id for c in keys] + _text_filter(table, traces.needles())
    if not conditions:
        return []
    query = select(table).where(or_(false(), *conditions))
    return [dict(row._mapping) for row in (await (await session.connection()).execute(query)).all()]


def _someone_else(table: Table, row: dict[str, Any], traces: Traces) -> bool:
    """Another person's own user row: a namesake is not the person, and keeps their name."""
    return table.name == USER_TABLE and row.get("id") != traces.user_id


def _about(table: Table, row: dict[str, Any], traces: Traces) -> bool:
    if _someone_else(table, row, traces):
        return False
    if any(row.get(c.name) == traces.user_id for c in _user_keys(table)):
        return True
    return any(carries(traces, row.get(c.name)) for c in table.columns if _is_text(c) or _is_json(c))


def _plain(value: Any, column: Column[Any]) -> Any:
    if value is not None and _is_secret(column):
        return WITHHELD
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def rows_about(session: AsyncSession, traces: Traces) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that is about the person, as plain JSON-ready dicts (credentials withheld)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables():
        rows = [r for r in await _candidates(session, table, traces) if _about(table, r, traces)]
        if rows:
            found[table.name] = [{c.name: _plain(r.get(c.name), c) for c in table.columns} for r in rows]
    return found


# --- scrubbing -------------------------------------------------------------------------------------------


def _scrub(value: Any, traces: Traces, subs: list[tuple[re.Pattern[str], str]]) -> Any:
    """The value with every trace replaced; a mention of the person becomes plain placeholder text."""
    if isinstance(value, str):
        for pattern, replacement in subs:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        if value.get("type") == "mention" and value.get("user_id") == traces.platform_user_id:
            return _scrub(value.get("name", ""), traces, subs) or "a former participant"
        return {k: _scrub(v, traces, subs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, traces, subs) for v in value]
    return value


async def scrub_everywhere(session: AsyncSession, traces: Traces) -> int:
    """Replace the person's traces in every text and JSON column of every table; returns rows changed."""
    subs = traces.substitutions()
    changed = 0
    for table in tables():
        conditions = _text_filter(table, traces.needles())
        if not conditions:
            continue
        primary = list(table.primary_key.columns)
        for row in (await (await session.connection()).execute(select(table).where(or_(*conditions)))).all():
            data = dict(row._mapping)
            if _someone_else(table, data, traces):
                continue
            values = {
                c.name: _scrub(data[c.name], traces, subs)
                for c in table.columns
                if (_is_text(c) or _is_json(c)) and data[c.name] is not None and carries(traces, data[c.name])
            }
            if values:
                where = [pk == data[pk.name] for pk in primary]
                await (await session.connection()).execute(update(table).where(*where).values(**values))
                changed += 1
    return changed
