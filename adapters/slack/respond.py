"""The core's answer (``Reply``/``OpenForm``/``FormErrors``/``NoReply``) → the right Slack call.

Where an answer goes depends on how the person asked: a slash command answers through its
``response_url`` (ephemeral), a click can replace the clicked message, an @-mention is answered in its
thread, a DM in the DM, and a form opens as a modal with the request's ``trigger_id``.

A ``response_url`` or an ephemeral message can't carry files, so an answer's files (the ``stats`` chart)
follow in the person's DM with Tandem: only they see them, as only they saw the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapters.slack.port import SlackPort
from adapters.slack.render import render_form, render_message
from bot.kernel.events import FormErrors, NoReply, OpenForm, Reply, Response
from bot.kernel.messages import Message, Section, Text, text_message
from bot.kernel.port import SendError

log = logging.getLogger("tandem.slack")

MAX_RESPONSES = 5  # answers Slack takes on one response_url
TOO_LONG = "… the rest of this answer is too long for Slack here; ask me in our DM to see it all."


@dataclass(frozen=True)
class Origin:
    """Where the request came from, i.e. where its answer can go."""

    workspace_id: str
    user_id: str
    channel_id: str | None = None
    thread_ts: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None  # commands and clicks answer here (valid 30 min, 5 uses)
    in_thread: bool = False  # app_mention / DM: post a real message in the conversation


def form_errors(response: FormErrors) -> dict[str, Any]:
    """view_submission answer that shows messages under the fields (block_id == field_id)."""
    return {"response_action": "errors", "errors": {k: v[:150] for k, v in response.errors.items()}}


async def deliver(port: SlackPort, origin: Origin, response: Response) -> None:
    if isinstance(response, NoReply):
        return
    if isinstance(response, OpenForm):
        if not origin.trigger_id:
            log.warning("slack: the core asked for form %s but there is no trigger_id", response.form.form_id)
            return
        try:
            await port.open_view(origin.workspace_id, origin.trigger_id, render_form(response.form))
        except SendError as exc:
            # trigger_ids live 3 s; when we were too slow, say so instead of failing silently
            if "expired_trigger_id" not in str(exc) and "invalid_trigger" not in str(exc):
                raise
            log.warning("slack: form %s not opened: %s", response.form.form_id, exc)
            late = text_message(
                "Sorry, that took me too long and Slack closed the window for the form. Please try again."
            )
            await _reply(port, origin, Reply(message=late))
        return
    if isinstance(response, FormErrors):
        log.info("slack: form errors outside a modal submission: %s", response.errors)
        return
    if isinstance(response, Reply):
        await _reply(port, origin, response)


async def _reply(port: SlackPort, origin: Origin, reply: Reply) -> None:
    if origin.in_thread and origin.channel_id:
        await port.reply(origin.workspace_id, origin.channel_id, reply.message, origin.thread_ts)
        return
    if origin.response_url:
        await _respond(port, origin.response_url, reply)
        await _files_to_dm(port, origin, reply.message)
        return
    if reply.ephemeral and origin.channel_id and not origin.channel_id.startswith("D"):
        await port.post_ephemeral(origin.workspace_id, origin.channel_id, origin.user_id, reply.message)
        await _files_to_dm(port, origin, reply.message)
        return
    # nowhere else to put it (e.g. a click inside a modal): the person's DM with Tandem
    await port.reply(origin.workspace_id, origin.user_id, reply.message)


async def _respond(port: SlackPort, response_url: str, reply: Reply) -> None:
    """Answer through the response_url; a reply over 50 blocks continues in follow-ups (Slack takes up to
    five answers on one response_url, so past that the last one says the rest is left out)."""
    rendered = render_message(reply.message)
    chunks = rendered.chunks
    if len(chunks) > MAX_RESPONSES:
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": TOO_LONG}]}
        chunks = [*chunks[: MAX_RESPONSES - 1], [*chunks[MAX_RESPONSES - 1][:-1], note]]
    kind = {"response_type": "ephemeral" if reply.ephemeral else "in_channel"}
    for n, blocks in enumerate(chunks):
        body: dict[str, Any] = {"text": rendered.text, "blocks": blocks}
        if n == 0 and reply.replace_original:
            body["replace_original"] = True
        else:
            body.update(replace_original=False, **kind)
        await port.respond(response_url, body)


async def _files_to_dm(port: SlackPort, origin: Origin, message: Message) -> None:
    """The files of an answer that went where files can't go, sent to the person's DM with Tandem."""
    if not message.files:
        return
    names = ", ".join(f.title or f.filename for f in message.files)
    note = Message(
        summary=f"📎 {message.summary}",
        files=message.files,
        blocks=(Section(text=Text.of(f"📎 {message.summary}: {names}")),),
    )
    await port.reply(origin.workspace_id, origin.user_id, note)
