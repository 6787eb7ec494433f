"""The program's minimum shared working hours: a setting with a clear answer, and an honest intro."""

from __future__ import annotations

from sqlmodel import select

from bot.kernel.events import FormErrors, OpenForm, Reply
from storage.tables import Program
from tests.core.harness import Harness


async def _settings_values(h: Harness, admin) -> tuple[OpenForm, dict]:  # noqa: ANN001
    form = await h.command(admin, "program settings", "coffee")
    assert isinstance(form, OpenForm)
    values = {f.field_id: getattr(f, "initial", "") for f in form.form.fields}
    return form, {k: (v[0] if isinstance(v, tuple) else v) for k, v in values.items()}


async def test_min_shared_hours_defaults_to_one_and_bad_values_change_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", admin=True)
    await h.create_program(admin)
    form, values = await _settings_values(h, admin)
    assert values["min_shared_hours"] == "1"
    for bad in ("-1", "9", "lots", "1.1"):
        refused = await h.submit(admin, form, values | {"min_shared_hours": bad})
        assert isinstance(refused, FormErrors) and "from 0 to 8" in refused.errors["min_shared_hours"], bad
    async with db.session() as s:
        assert (await s.exec(select(Program))).one().weights == {"min_shared_hours": 1.0}
    assert isinstance(await h.submit(admin, form, values | {"min_shared_hours": "2.5"}), Reply)
    async with db.session() as s:
        assert (await s.exec(select(Program))).one().weights == {"min_shared_hours": 2.5}
    assert (await _settings_values(h, admin))[1]["min_shared_hours"] == "2.5"


async def test_a_pair_with_too_little_shared_time_is_told_and_offered_the_async_start(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", admin=True)
    await h.create_program(admin)
    ana = h.actor("U1", "Ana", tz="Europe/Berlin")  # 08:00-16:00 UTC
    ben = h.actor("U2", "Ben", tz="America/New_York")
    await h.enrol(ana, profile={"work_start": "09:00", "work_end": "17:00"})
    await h.enrol(ben, profile={"work_start": "11:30", "work_end": "18:00"})  # from 15:30 UTC: 30 minutes shared
    await h.command(admin, "match now")
    await h.core.dispatch()
    intro = h.last_to("U1").message.plain_text()
    assert "matched in" in intro
    assert "share only 30 minutes" in intro and "start asynchronously" in intro
