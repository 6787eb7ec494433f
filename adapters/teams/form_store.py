"""Forms shown as Teams cards, kept in the ``teams_form`` table so cards carry a reference, not the form.

Teams hands a card's action data back on submit, and caps a message at ~28 KB: a form copied into that
data (every option of every select) made big forms lose their inputs. Now the data holds a short key;
the submit finds the form again (to show the answers, or the form with its problems marked), and a long
option list is searched here as the person types (Teams' ``application/search`` invoke).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.kernel.messages import Form, Option, SelectInput
from storage.database import Database
from storage.tables import TeamsForm

KEEP_FOR = timedelta(days=90)  # a form card answered later still works, only shown as "Saved." (no answers)
SEARCH_PAGE = 15  # Teams shows at most 15 results in a typeahead drop-down
MAX_SEARCH_PAGE = 50


def form_key(tenant_id: str, form: Form) -> str:
    """The same form in the same tenant always gets the same key (so showing it again adds no row)."""
    body = f"{tenant_id}\n{form.model_dump_json()}"
    return hashlib.sha256(body.encode()).hexdigest()[:40]


async def save_form(db: Database, tenant_id: str, form: Form, now: datetime) -> str:
    """Keep ``form`` (once) and return its key; forms kept longer than ``KEEP_FOR`` are let go meanwhile."""
    key = form_key(tenant_id, form)
    if await load_form(db, key) is not None:
        return key
    try:
        async with db.transaction() as session:
            await session.exec(delete(TeamsForm).where(col(TeamsForm.created_at) < now - KEEP_FOR))
            session.add(TeamsForm(key=key, tenant_id=tenant_id, form=form.model_dump_json(), created_at=now))
    except IntegrityError:  # another process kept the same form at the same moment
        pass
    return key


async def load_form(db: Database, key: str, tenant_id: str | None = None) -> Form | None:
    """The form kept under ``key`` (in ``tenant_id`` when given), or None."""
    async with db.session() as session:
        result = await session.exec(select(TeamsForm).where(TeamsForm.key == key))
        row = result.first()
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        return None
    try:
        return Form.model_validate_json(row.form)
    except ValueError:
        return None


def dataset_of(key: str, field_id: str) -> str:
    """What a typeahead drop-down names as its ``Data.Query`` dataset."""
    return f"{key}/{field_id}"


def split_dataset(dataset: str) -> tuple[str, str] | None:
    key, sep, field_id = dataset.partition("/")
    return (key, field_id) if sep and key and field_id else None


def search(form: Form, field_id: str, query: str, skip: int = 0, top: int = SEARCH_PAGE) -> list[Option]:
    """The options of the form's select ``field_id`` whose label has every typed word: those where each
    typed word starts a word first (typing "ana" finds "Ana Silva" before "Banana"), then in form order."""
    field = next((f for f in form.fields if isinstance(f, SelectInput) and f.field_id == field_id), None)
    if field is None:
        return []
    words = query.casefold().split()
    starts: list[Option] = []
    inside: list[Option] = []
    for option in field.options:
        label = option.label.casefold()
        if all(w in label for w in words):
            begins = all(any(part.startswith(w) for part in label.split()) for w in words)
            (starts if begins else inside).append(option)
    found = starts + inside
    skip = max(0, skip)
    return found[skip : skip + max(1, min(top, MAX_SEARCH_PAGE))]
