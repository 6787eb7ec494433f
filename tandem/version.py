"""The installed Tandem version, read from the package metadata so it always matches the wheel."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version


def version() -> str:
    try:
        return distribution_version("tandem")
    except PackageNotFoundError:  # running from a bare checkout that was never installed
        return "0+unknown"
