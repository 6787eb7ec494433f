"""Maintainer tool: regenerate the initial migration from the tables (pre-release only).

Until the first release there is exactly one migration, rebuilt from ``storage.tables`` whenever the
tables change. After the first release, add new revisions with ``alembic revision --autogenerate``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from storage.database import MIGRATIONS_DIR, alembic_config
from storage.urls import normalize_database_url


def main() -> None:
    for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = normalize_database_url(f"sqlite:///{Path(tmp) / 'empty.db'}")
        cfg = alembic_config(url)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    for new in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        new.rename(new.with_name("0001_initial.py"))


if __name__ == "__main__":
    main()
