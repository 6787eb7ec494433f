"""The two plain pages the Teams app manifest links to (privacyUrl, termsOfUseUrl): they must not be 404s."""

from __future__ import annotations

from aiohttp import web

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Tandem: {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""

PRIVACY = """
<p>This Tandem is self-hosted by the organisation that installed it in your Slack or Microsoft Teams.
Everything it stores stays in that organisation's own database; nothing is sent to the makers of Tandem.</p>
<p>It keeps what it needs to run mentoring programs and coffee chats: your name, time zone and working hours,
the programs you joined, your matches, the chats you booked and the survey answers you gave. Answers to
surveys are shown to program admins only as described in the program. You can pause or leave a program at
any time, and ask never to be matched with someone, privately.</p>
<p>Questions about your data go to the people who run this Tandem in your organisation.</p>
"""

TERMS = """
<p>Tandem is open-source software, provided under the MIT license without warranty of any kind. This
installation is run by your organisation, whose own rules for workplace tools apply to its use.</p>
<p>Taking part in a program is voluntary: you join with your consent and can pause or leave at any time.</p>
"""


async def privacy(_: web.Request) -> web.Response:
    return web.Response(text=_PAGE.format(title="Privacy", body=PRIVACY), content_type="text/html")


async def terms(_: web.Request) -> web.Response:
    return web.Response(text=_PAGE.format(title="Terms of use", body=TERMS), content_type="text/html")
