"""The playground in a real headless Chromium: two colleagues join, the week runs, they book a chat and
answer the check-in, the admin's stats show the chart, and the channel has its icebreaker."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Locator, Page, expect

from tandem.playground.server import PlaygroundOptions, running_playground
from tests.playground.browser import browser

WAIT = 30_000  # ms: a generous deadline for each thing to appear on a shared, busy machine


def last(pane: Locator, text: str) -> Locator:
    """The newest message in a pane that contains ``text``."""
    return pane.locator(".msg", has_text=text).last


async def say(pane: Locator, text: str) -> None:
    await pane.get_by_label("message").fill(text)
    await pane.get_by_role("button", name="Send").click()


async def test_two_colleagues_and_the_admin_in_the_browser(tmp_path: Path) -> None:
    options = PlaygroundOptions(people=2, panes=2, kind="peer", seed=4)  # London and Berlin: hours overlap
    async with running_playground(options) as url, browser(tmp_path / "profile") as context:
        assert url.startswith("http://127.0.0.1:")
        page = await context.new_page()
        await page.goto(url)
        await journey(page)


async def journey(page: Page) -> None:
    expect.set_options(timeout=WAIT)
    ana, ben = page.locator("#pane-U0001"), page.locator("#pane-U0002")
    admin, channel = page.locator("#pane-admin"), page.locator("#pane-channel")

    # Ana joins and fills her profile in an HTML form (what she types is shown as text, never as markup).
    await last(ana, "Want in?").get_by_role("button", name="Join").click()
    await expect(ana).to_contain_text("You're in Coffee Chats")
    await last(ana, "You're in").get_by_role("button", name="Edit my profile").click()
    form = ana.locator("form.bot-form")
    await expect(form).to_contain_text("Your profile")
    await form.get_by_label("Skills you can share").fill("<b>Python</b> & SQL")
    await form.get_by_label("Celebrate our milestones").select_option(label="No, keep it private")
    await form.get_by_role("button", name="Save").click()
    await expect(ana).to_contain_text("Saved your profile for Coffee Chats")
    await expect(form).to_have_count(0)
    await say(ana, "profile")  # typed as in a DM: the same form, with what she saved
    await expect(form.get_by_label("Skills you can share")).to_have_value("<b>Python</b> & SQL")
    assert await page.locator("b", has_text="Python").count() == 0
    await form.get_by_role("button", name="Cancel").click()
    await expect(form).to_have_count(0)

    # Ben joins by typing, as in a DM; a day passes: the round's intro is in both panes.
    await say(ben, "join")
    await expect(ben).to_contain_text("Welcome to Coffee Chats")
    await page.get_by_role("button", name="Next day").click()
    await expect(page.locator("#clock")).to_contain_text("Tue 6 Jan")
    for pane, other in ((ana, "Ben A."), (ben, "Ana A.")):
        intro = last(pane, "you're matched in")
        await expect(intro).to_contain_text("group chat: Ana A., Ben A.")
        await expect(intro.locator(".mention", has_text=other)).to_be_visible()

    # Ana proposes the intro's last time (still ahead); the next day Ben accepts; a day on, both have the booking.
    offer = last(ana, "you're matched in")
    await offer.locator("form.button button", has_text="Propose option").last.click()
    await expect(ana).to_contain_text("I'll confirm once everyone accepts")
    await page.get_by_role("button", name="Next day").click()
    proposal = last(ben, "proposed a coffee chat")
    await proposal.get_by_role("button", name="Accept").click()
    await expect(proposal).to_contain_text("the chat was booked")  # the message itself, updated in place
    await page.get_by_role("button", name="Next day").click()
    for pane in (ana, ben):
        await expect(last(pane, "Your coffee chat is booked")).to_be_visible()

    # The day after the chat, Ana answers the check-in survey.
    await page.get_by_role("button", name="Next day").click()
    await last(ana, "Did you meet?").get_by_role("button", name="Yes, we met").click()
    survey = last(ana, "Did you meet?")
    await expect(survey).to_contain_text("✓ Saved. You can change your answer")  # updated in place
    await survey.get_by_role("button", name="Add a comment").click()  # free text: an HTML form
    await form.locator("textarea, input[type=text]").first.fill("We swapped <i>book</i> tips!")
    await form.locator("button.primary").click()
    await expect(form).to_have_count(0)
    await expect(ana.locator(".msg.private").last).to_contain_text("Thanks, saved.")

    # A week passes: the next round's intro.
    await page.get_by_role("button", name="Next week").click()
    await expect(page.locator("#clock")).to_contain_text("Fri 16 Jan")
    for pane in (ana, ben):
        await expect(last(pane, "you're matched in")).to_contain_text("round 2")

    # The admin's stats, with the chart as an image; the channel's icebreaker.
    await say(admin, "stats")
    await expect(admin).to_contain_text("Participants: 2 active")
    chart = admin.locator("img.chart")
    await expect(chart).to_be_visible()
    assert (await chart.get_attribute("src") or "").startswith("data:image/png;base64,")
    assert await chart.evaluate("img => img.naturalWidth") > 100
    await expect(channel).to_contain_text("Icebreaker of the week")
