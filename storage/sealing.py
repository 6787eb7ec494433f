"""Bot tokens of OAuth installs, encrypted at rest with keys from the environment.

``TANDEM_SECRET_KEYS`` holds one or more Fernet keys, comma-separated, newest first. With keys, tokens are
written as ``fernet:<token>`` (AES-128-CBC + HMAC-SHA256) and read with any of the keys (``MultiFernet``),
so a key can be rotated without downtime: put the new key first, restart, run ``tandem db rotate-secrets``
(re-encrypts every stored token with the newest key), then drop the old key. Without keys nothing
changes: tokens stay as they are, which keeps a plain SQLite install simple. A stored plain token is
still read when keys are set (and sealed by the next save or rotation).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlmodel import select

from storage.database import Database
from storage.tables import Installation

ENV = "TANDEM_SECRET_KEYS"
PREFIX = "fernet:"


class SealError(RuntimeError):
    """A stored token cannot be opened: no key, or none of the keys is the one it was sealed with."""


def new_key() -> str:
    """A fresh key for ``TANDEM_SECRET_KEYS``."""
    return Fernet.generate_key().decode()


class Sealer:
    def __init__(self, keys: Sequence[str] = ()) -> None:
        try:
            fernets = [Fernet(k.strip().encode()) for k in keys if k.strip()]
        except ValueError:
            raise SealError(f"{ENV} must hold Fernet keys (make one with `tandem db new-secret-key`)") from None
        self._multi = MultiFernet(fernets) if fernets else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Sealer:
        env = os.environ if env is None else env
        return cls(env.get(ENV, "").split(","))

    @property
    def enabled(self) -> bool:
        return self._multi is not None

    def seal(self, value: str | None) -> str | None:
        """What to store for ``value``: encrypted when keys are set, else ``value`` itself."""
        if value is None or self._multi is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._multi.encrypt(value.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The token ``stored`` holds; plain values are returned as they are."""
        if stored is None or not stored.startswith(PREFIX):
            return stored
        if self._multi is None:
            raise SealError(f"a stored token is encrypted but {ENV} is not set")
        try:
            return self._multi.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError(f"a stored token was encrypted with a key that is not in {ENV}") from None

    def reseal(self, stored: str | None) -> str | None:
        """``stored`` encrypted with the newest key (plain values get sealed too)."""
        if stored is None or self._multi is None:
            return stored
        if not stored.startswith(PREFIX):
            return self.seal(stored)
        try:
            return PREFIX + self._multi.rotate(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError(f"a stored token was encrypted with a key that is not in {ENV}") from None


SECRET_FIELDS = ("bot_token", "user_token", "bot_refresh_token", "user_refresh_token")


def seal_data(sealer: Sealer, data: dict[str, Any]) -> dict[str, Any]:
    """An installation's saved data with its token fields sealed."""
    return {k: sealer.seal(v) if k in SECRET_FIELDS and isinstance(v, str) else v for k, v in data.items()}


def open_data(sealer: Sealer, data: dict[str, Any]) -> dict[str, Any]:
    return {k: sealer.open(v) if k in SECRET_FIELDS and isinstance(v, str) else v for k, v in data.items()}


async def reseal_installations(db: Database, sealer: Sealer) -> int:
    """Re-encrypt every stored token with the newest key (plain ones get encrypted); returns rows changed."""
    changed = 0
    async with db.transaction() as session:
        for row in (await session.exec(select(Installation))).all():
            token = sealer.reseal(row.bot_token)
            data = {
                k: sealer.reseal(v) if k in SECRET_FIELDS and isinstance(v, str) else v
                for k, v in (row.data or {}).items()
            }
            if token != row.bot_token or data != row.data:
                row.bot_token, row.data = token, data
                session.add(row)
                changed += 1
    return changed
