"""OAuth bot tokens encrypted at rest: nothing readable in the row, sends still work, keys rotate."""

from __future__ import annotations

import json

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlmodel import select

from adapters.slack.installations import DatabaseInstallationStore
from storage.sealing import Sealer, SealError, new_key, reseal_installations
from storage.tables import Installation as InstallationRow

TOKEN = "xoxb-T111-secret-token"


def _install() -> Installation:
    return Installation(
        app_id="A1",
        team_id="T111",
        bot_token=TOKEN,
        bot_id="B1",
        bot_user_id="W1",
        user_id="W111",
        user_token="xoxp-user-secret",
    )


async def _row(db) -> InstallationRow:  # noqa: ANN001
    async with db.session() as s:
        return (await s.exec(select(InstallationRow))).one()


async def test_tokens_are_encrypted_at_rest_and_read_back(database) -> None:  # noqa: ANN001
    store = DatabaseInstallationStore(database, Sealer([new_key()]))
    await store.async_save(_install())
    row = await _row(database)
    dumped = (row.bot_token or "") + json.dumps(row.data)
    assert TOKEN not in dumped and "xoxp-user-secret" not in dumped
    assert row.bot_token and row.bot_token.startswith("fernet:")
    assert await store.bot_token("T111") == TOKEN
    found = await store.async_find_installation(enterprise_id=None, team_id="T111")
    assert found is not None and found.bot_token == TOKEN and found.user_token == "xoxp-user-secret"


async def test_without_keys_tokens_stay_plain_and_keys_can_be_added_later(database) -> None:  # noqa: ANN001
    await DatabaseInstallationStore(database).async_save(_install())
    assert (await _row(database)).bot_token == TOKEN
    key = new_key()
    sealed = DatabaseInstallationStore(database, Sealer([key]))
    assert await sealed.bot_token("T111") == TOKEN, "a plain token is still read once keys are set"
    assert await reseal_installations(database, Sealer([key])) == 1
    assert (await _row(database)).bot_token.startswith("fernet:")  # type: ignore[union-attr]
    assert await sealed.bot_token("T111") == TOKEN


async def test_rotation_moves_every_token_to_the_new_key(database) -> None:  # noqa: ANN001
    old, new = new_key(), new_key()
    await DatabaseInstallationStore(database, Sealer([old])).async_save(_install())
    both = Sealer([new, old])
    assert await DatabaseInstallationStore(database, both).bot_token("T111") == TOKEN, "old key still reads"
    assert await reseal_installations(database, both) == 1
    only_new = DatabaseInstallationStore(database, Sealer([new]))
    assert await only_new.bot_token("T111") == TOKEN
    found = await only_new.async_find_installation(enterprise_id=None, team_id="T111")
    assert found is not None and found.user_token == "xoxp-user-secret"
    with pytest.raises(SealError):
        await DatabaseInstallationStore(database, Sealer([old])).bot_token("T111")
    with pytest.raises(SealError):
        await DatabaseInstallationStore(database).bot_token("T111")


def test_a_bad_key_is_a_clear_error() -> None:
    with pytest.raises(SealError, match="TANDEM_SECRET_KEYS"):
        Sealer(["not-a-key"])
