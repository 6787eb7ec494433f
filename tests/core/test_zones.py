"""Time zones people type: IANA names only; an abbreviation is refused with the names it might mean."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.kernel.events import FormErrors, OpenForm
from bot.kernel.timeutil import BadTime
from bot.kernel.zones import typed_zone
from storage.tables import Program, User
from tests.core.harness import Harness


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("EST", "America/New_York"),
        ("cet", "Europe/Berlin"),
        ("IST", "Asia/Kolkata"),
        ("PST8PDT", "America/Los_Angeles"),
    ],
)
def test_abbreviations_are_refused_with_what_they_might_mean(typed: str, meant: str) -> None:
    with pytest.raises(BadTime, match="abbreviation") as refused:
        typed_zone(typed)
    assert meant in str(refused.value)


def test_real_names_pass_and_typos_get_the_closest() -> None:
    assert typed_zone(" Europe/Berlin ") == "Europe/Berlin" and typed_zone("UTC") == "UTC"
    with pytest.raises(BadTime, match="Did you mean Europe/Berlin"):
        typed_zone("Europe/Berln")


async def test_profile_and_program_forms_refuse_est_and_change_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", admin=True)
    await h.create_program(admin)
    ana = h.actor("U1", "Ana", tz="Europe/Lisbon")
    await h.enrol(ana)
    form = await h.command(ana, "profile")
    assert isinstance(form, OpenForm)
    refused = await h.submit(ana, form, {"timezone": "EST", "work_start": "09:00", "work_end": "17:00"})
    assert isinstance(refused, FormErrors) and "America/New_York" in refused.errors["timezone"]
    settings = await h.command(admin, "program settings", "coffee")
    assert isinstance(settings, OpenForm)
    values = {f.field_id: getattr(f, "initial", "") for f in settings.form.fields}
    values = {k: (v[0] if isinstance(v, tuple) else v) for k, v in values.items()}
    bad = await h.submit(admin, settings, values | {"timezone": "CET"})
    assert isinstance(bad, FormErrors) and "Europe/Berlin" in bad.errors["timezone"]
    async with db.session() as s:
        assert (await s.exec(select(User).where(User.platform_user_id == "U1"))).one().timezone == "Europe/Lisbon"
        assert (await s.exec(select(Program))).one().timezone == "Europe/Berlin"
