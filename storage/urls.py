"""Database URL parsing: turn what a user typed into the async driver URL we use."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class DatabaseUrlError(ValueError):
    """The URL can't be used; the message says why in one line."""


_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def normalize_database_url(raw: str) -> URL:
    """Parse ``raw`` and pick the async driver Tandem ships with (aiosqlite or psycopg 3)."""
    text = (raw or "").strip()
    if not text:
        raise DatabaseUrlError("the database URL is empty")
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"'{raw}' is not a database URL ({exc})") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        supported = "sqlite:///path.db or postgresql+psycopg://user@host/db"
        raise DatabaseUrlError(f"unsupported database '{url.drivername}' (use {supported})")
    url = url.set(drivername=driver)
    if driver.startswith("postgresql") and not url.database:
        raise DatabaseUrlError(f"'{raw}' names no database")
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def describe(url: URL) -> str:
    """The URL with any password hidden, for logs and health checks."""
    return url.render_as_string(hide_password=True)
