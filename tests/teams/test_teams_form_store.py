"""The forms Teams cards refer to: kept once per tenant, found again, searched, and let go after a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.teams.form_store import KEEP_FOR, load_form, save_form, search
from bot.kernel.messages import Form, Option, SelectInput

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
FORM = Form(
    form_id="pick",
    title="Pick",
    fields=(
        SelectInput(
            field_id="who", label="Who", options=tuple(Option(label=f"Ana {n}", value=str(n)) for n in range(80))
        ),
    ),
)


async def test_a_form_is_kept_once_and_only_its_tenant_finds_it(db) -> None:  # noqa: ANN001
    key = await save_form(db, "tenant-a", FORM, NOW)
    assert await save_form(db, "tenant-a", FORM, NOW) == key  # the same form again: the same row
    assert await save_form(db, "tenant-b", FORM, NOW) != key
    assert await load_form(db, key, "tenant-a") == FORM
    assert await load_form(db, key, "tenant-b") is None
    assert await load_form(db, "nope") is None


async def test_search_pages_through_matching_options(db) -> None:  # noqa: ANN001
    starts = ["7", *(str(n) for n in range(70, 80))]  # a word starting with what was typed comes first
    assert [o.value for o in search(FORM, "who", "ana 7")] == [*starts, "17", "27", "37", "47"]
    assert [o.value for o in search(FORM, "who", "", skip=75)] == ["75", "76", "77", "78", "79"]
    assert search(FORM, "other", "ana") == []


async def test_old_forms_are_let_go(db) -> None:  # noqa: ANN001
    old = await save_form(db, "t", FORM, NOW)
    later = NOW + KEEP_FOR + timedelta(days=1)
    await save_form(db, "t", Form(form_id="other", title="Other", fields=()), later)
    assert await load_form(db, old) is None
