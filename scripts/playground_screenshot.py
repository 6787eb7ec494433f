"""Draws docs/playground.png (run by hand; the PNG is committed): the playground in the system's headless
Chromium after a realistic start, three colleagues' panes after the first round and the admin's stats chart.

    PYTHONPATH=. python scripts/playground_screenshot.py [docs/playground.png]
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.async_api import Page, async_playwright

from tandem.playground.server import PlaygroundOptions, running_playground

OUT = Path(__file__).resolve().parents[1] / "docs" / "playground.png"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
LIMIT = 400_000  # bytes: the README's picture stays small


async def drive(page: Page) -> None:
    """Three people join (one by typing), a day passes (the round's intros), two book a chat, a week passes
    (the others answer as simulated people do), and the admin asks for stats."""
    for pane in ("U0001", "U0002"):
        await page.locator(f"#pane-{pane} .msg", has_text="Want in?").last.get_by_role("button", name="Join").click()
        await page.locator(f"#pane-{pane} .msg", has_text="You're in").last.wait_for()
    await say(page, "U0003", "join")
    await page.get_by_role("button", name="Next day").click()
    intro = page.locator("#pane-U0001 .msg", has_text="you're matched in").last
    await intro.locator("form.button button", has_text="Propose option").last.click()
    await page.get_by_role("button", name="Next day").click()
    await (
        page.locator("#pane-U0002 .msg", has_text="proposed a coffee chat")
        .last.get_by_role("button", name="Accept")
        .click()
    )
    await page.get_by_role("button", name="Next week").click()
    await say(page, "admin", "stats")
    await page.locator("#pane-admin img.chart").wait_for()


async def say(page: Page, pane: str, text: str) -> None:
    await page.locator(f"#pane-{pane} input[name=text]").fill(text)
    await page.locator(f"#pane-{pane}").get_by_role("button", name="Send").click()


async def capture() -> bytes:
    options = PlaygroundOptions(people=8, panes=3, kind="peer", seed=4)
    async with running_playground(options) as url, async_playwright() as playwright:
        with tempfile.TemporaryDirectory(prefix="tandem-shot-") as profile:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1720, "height": 960}
            )
            page = await context.new_page()
            await page.goto(url)
            await drive(page)
            png = await page.screenshot()
            await context.close()
    return png


def save(png: bytes, out: Path) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64):  # fewer colours until it fits; a UI needs few
        buffer = io.BytesIO()
        image.quantize(colors=colours).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= LIMIT:
            break
    out.write_bytes(buffer.getvalue())
    print(f"{out}: {buffer.tell() // 1000} kB, {image.width}×{image.height}")


if __name__ == "__main__":
    save(asyncio.run(capture()), Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
