"""The playground page: the channel, the admin and each seated person side by side, newest at the bottom."""

from __future__ import annotations

from adapters.console.port import Sent
from bot.kernel.timeutil import show
from tandem.playground.html import Html, join, tag
from tandem.playground.render import hidden, render_form, render_message
from tandem.playground.state import ADMIN_PANE, Playground
from tandem.session import ADMIN_NAME, ADMIN_ZONE

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#eef0f3;color:#1d1c1d}
header{display:flex;gap:1em;align-items:center;padding:.6em 1em;background:#3f0e40;color:#fff}
header h1{font-size:1.1em;margin:0}header form{margin-left:auto}
main{display:flex;gap:.6em;padding:.6em;overflow-x:auto;height:calc(100vh - 3.6em);box-sizing:border-box}
section.pane{flex:1 0 20em;max-width:30em;display:flex;flex-direction:column;background:#fff;border-radius:6px;min-height:0}
section.pane h2{font-size:1em;margin:0;padding:.5em .7em;border-bottom:1px solid #ddd}
section.pane h2 small{font-weight:normal;color:#666}
.feed{flex:1;overflow-y:auto;padding:.4em .7em}
.msg{border-bottom:1px solid #eee;padding:.4em 0}.msg p{margin:.2em 0;white-space:pre-wrap}
.meta,.context{color:#666;font-size:.85em}.private{background:#f6f6fb}
.actions{display:flex;flex-wrap:wrap;gap:.3em;margin:.3em 0}.actions form{display:inline}
button{font:inherit;padding:.15em .6em;border:1px solid #bbb;border-radius:4px;background:#fff;cursor:pointer}
button.primary{background:#007a5a;color:#fff;border-color:#007a5a}button.danger{color:#e01e5a}
.mention{color:#1264a3;background:#e8f5fa}
img.chart{max-width:100%;border:1px solid #ddd}figure{margin:.3em 0}figcaption{font-size:.85em;color:#666}
.bot-form{border-top:2px solid #3f0e40;padding:.5em .7em;max-height:55%;overflow-y:auto;background:#faf7fa}
.bot-form h4{margin:.2em 0}
.field{display:flex;flex-direction:column;margin:.3em 0}.field input,.field textarea,.field select{font:inherit}
.error{color:#e01e5a;font-size:.85em}
form.say{display:flex;gap:.3em;padding:.5em .7em;border-top:1px solid #ddd}form.say input{flex:1;font:inherit}
"""
# Each pane's feed scrolls to its newest message after every step (the page is redrawn after each POST).
SCRIPT = "for (const f of document.querySelectorAll('.feed')) f.scrollTop = f.scrollHeight;"


def render_page(playground: Playground) -> Html:
    session = playground.session
    now = show(session.clock.now(), ADMIN_ZONE)
    week = tag(
        "form",
        hidden(token=playground.token),
        tag("button", "Next day ⏩", type="submit", name="span", value="day"),
        " ",
        tag("button", "Next week ⏭", type="submit", name="span", value="week", class_="primary"),
        method="post",
        action="/wait",
    )
    top = tag("header", tag("h1", "Tandem playground · ", session.program_name), tag("span", now, id="clock"), week)
    panes = [_channel(playground), _admin(playground), *(_person(playground, p.user_id) for p in playground.seated)]
    head = join(
        [
            tag("meta", charset="utf-8"),
            tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
            tag("title", "Tandem playground"),
            tag("style", Html(STYLE)),
        ]
    )
    body = tag("body", top, tag("main", panes), tag("script", Html(SCRIPT)))
    return join([Html("<!doctype html>"), tag("html", tag("head", head), body, lang="en")])


def _channel(playground: Playground) -> Html:
    posts = [_entry(playground, s, "", ADMIN_ZONE) for s in playground.port.channel_posts()]  # read only
    title = tag("h2", "#", playground.session.channel, " ", tag("small", "the program's channel"))
    return tag("section", title, tag("div", posts, class_="feed"), class_="pane", id="pane-channel")


def _admin(playground: Playground) -> Html:
    title = tag("h2", ADMIN_NAME, " ", tag("small", "program admin · types in the channel, e.g. stats"))
    return _pane(playground, ADMIN_PANE, title, ADMIN_ZONE, "stats, match now, help admin…")


def _person(playground: Playground, pane: str) -> Html:
    person = playground.person(pane)
    assert person is not None
    title = tag("h2", person.name, " ", tag("small", person.timezone))
    return _pane(playground, pane, title, person.timezone, "join, profile, status, pause 2w, help…")


def _pane(playground: Playground, pane: str, title: Html, zone: str, hint: str) -> Html:
    user_id = playground.user_id(pane)
    feed = [_entry(playground, s, pane, zone) for s in playground.port.pane(user_id)]
    opened = playground.forms.get(pane)
    form = render_form(opened.form, pane, playground.token, opened.values, opened.errors) if opened else None
    say = tag(
        "form",
        hidden(pane=pane, token=playground.token),
        tag("input", type="text", name="text", placeholder=hint, aria_label="message", autocomplete="off"),
        tag("button", "Send", type="submit"),
        method="post",
        action="/say",
        class_="say",
    )
    return tag("section", title, tag("div", feed, class_="feed"), form, say, class_="pane", id=f"pane-{pane}")


def _entry(playground: Playground, sent: Sent, pane: str, zone: str) -> Html:
    private = sent.ref.message_id in playground.port.private
    if private:
        where = "only visible to you"
    elif sent.channel:
        where = f"#{sent.channel}"
    elif len(sent.audience) > 1:
        names = playground.port.names
        where = "group chat: " + ", ".join(names.get(u, u) for u in sent.audience)
    else:
        where = "direct message"
    meta = tag(
        "div", where, " · ", show(sent.at, zone, with_zone=False), " (edited)" if sent.updated else "", class_="meta"
    )
    body = render_message(sent.message, pane, sent.ref.message_id, playground.token)
    return tag("div", meta, body, class_="msg private" if private else "msg", data_id=sent.ref.message_id)
