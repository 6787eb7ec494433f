"""The retention settings: months become the core's policy, and a bad value names its variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tandem.server import build_core
from tandem.settings import SettingsError, load_settings


def test_months_become_the_policy() -> None:
    policy = load_settings(
        TANDEM_RETENTION_MONTHS="0", TANDEM_FREE_TEXT_RETENTION_MONTHS="6", TANDEM_FORGET_ON_UNINSTALL="true"
    ).privacy_policy()
    assert policy.retention is None  # 0: kept until someone erases it
    assert policy.free_text_retention == timedelta(days=183)
    assert policy.forget_on_uninstall
    assert load_settings().privacy_policy().retention == timedelta(days=548)  # about 18 months


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="TANDEM_FREE_TEXT_RETENTION_MONTHS"):
        load_settings(TANDEM_FREE_TEXT_RETENTION_MONTHS="0")


async def test_the_server_core_gets_the_policy(sqlite_db) -> None:  # noqa: ANN001
    core = build_core(sqlite_db, load_settings(TANDEM_RETENTION_MONTHS="24"))
    assert core.privacy.retention == timedelta(days=730)
