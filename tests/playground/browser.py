"""A real headless Chromium for the playground tests (Debian's, not a downloaded one): missing is a failure."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The browser's path, or the test fails saying how to get it (the suite skips nothing)."""
    found = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        pytest.fail(
            f"Chromium is needed for the playground's browser tests and is not at {CHROMIUM} or on PATH: "
            "install it (Debian/Ubuntu: apt-get install -y chromium; .ci/run does this as root)",
            pytrace=False,
        )
    return found


@asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile in ``profile``; closed at the end of the block."""
    executable = chromium()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=ARGS, viewport={"width": 1600, "height": 900}
        )
        try:
            yield context
        finally:
            await context.close()
