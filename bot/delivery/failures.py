"""Telling admins about messages that could not be delivered: once per round (or lost channel), with what to do.

The outbox keeps a delivery that failed for good (state ``failed`` with its error) instead of dropping it; this
module makes sure someone hears of it. After a sending pass that gave up on some deliveries, each round they
belong to gets ONE notice to the admin who ran it (``match now``) or else the program's admins: how many, to
whom, and the fix the error calls for. The notice is itself an outbox message whose idempotency key names the
round, so a retry, a second server or a later failure in the same round never tells twice. `status` and the
home view keep showing the failures (bot/delivery/report.py) until `resend failed` gets them out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.notify import program_admins
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from storage.enums import DeliveryState
from storage.tables import AuditEntry, Delivery, Program, Round, User

log = logging.getLogger("tandem.outbox")

NOTICE_STEP = "failure_notice"
QUIET_STEPS = frozenset({NOTICE_STEP, "admin_note"})  # failures of these are logged, never told (no loops)
RUN_BY_WINDOW = timedelta(minutes=10)  # a `match now` this long before the round counts as who ran it
NAMES_SHOWN = 10

# What the error says → what the admin can do about it (first match wins; errors are the adapters' texts).
SETUP = ("missing_scope", "not_allowed_token_type", "invalid_auth", "token_revoked", "token_expired", "not_authed")
CHANNEL = ("not_in_channel", "channel_not_found", "is_archived", "not installed where channel", "removed from")
PERSON = ("account_inactive", "user_not_found", "user_disabled", "cannot_dm_bot", "blocked or removed the bot")

SETUP_HINT = (
    "Tandem is missing a permission it needs. Reinstall it with the current manifest (docs/slack.md; on Teams, the current app package), "
    "then type `resend failed`."
)
CHANNEL_HINT = "I can't post in the program's channel any more. Add Tandem back to it, then type `resend failed`."
PERSON_HINT = "They left the workspace or blocked Tandem; nothing to do unless they come back."
OTHER_HINT = "The platform kept refusing them. Type `resend failed` to try again."


def hint_for(errors: list[str], *, channel_failed: bool = False) -> str:
    """The one fix to suggest, judged by the worst error in the group (setup beats channel beats person).

    ``channel_failed``: a post to the program's channel is among the failures; a refusal there means Tandem
    lost the channel, whatever words the platform used."""
    text = " ".join(errors)
    if any(code in text for code in SETUP):
        return SETUP_HINT
    if channel_failed or any(code in text for code in CHANNEL):
        return CHANNEL_HINT
    if all(any(code in error for code in PERSON) for error in errors):
        return PERSON_HINT
    return OTHER_HINT


@dataclass(frozen=True)
class _Group:
    """Failures told together: a round's, or a program's channel posts (or other messages) of one day."""

    key: str
    program_id: int
    round_id: int | None
    channel: bool


def _is_update(delivery: Delivery) -> bool:
    """An edit of a message already delivered (closing its buttons): nobody misses anything when it fails."""
    return delivery.target.get("kind") == "update"


def _group_of(delivery: Delivery, now: datetime) -> _Group | None:
    if delivery.program_id is None or delivery.step in QUIET_STEPS or _is_update(delivery):
        return None
    if delivery.round_id is not None:
        return _Group(f"{NOTICE_STEP}:round:{delivery.round_id}", delivery.program_id, delivery.round_id, False)
    if delivery.target.get("kind") == "channel":
        key = f"{NOTICE_STEP}:channel:{delivery.program_id}:{now:%Y%m%d}"
        return _Group(key, delivery.program_id, None, True)
    return _Group(f"{NOTICE_STEP}:program:{delivery.program_id}:{now:%Y%m%d}", delivery.program_id, None, False)


async def tell_failures(core: Runtime, given_up: list[Delivery]) -> int:
    """Write one notice per round / lost channel the given-up deliveries belong to; returns notices written."""
    now = core.clock.now()
    groups = {g.key: g for g in (_group_of(d, now) for d in given_up) if g is not None}
    if not groups:
        return 0
    written = 0
    async with core.db.transaction() as session:
        for group in groups.values():
            written += await _tell(core, session, group, now)
    if written:
        core.wakeup.set()
    return written


async def _failed_in(session: AsyncSession, group: _Group, now: datetime) -> list[Delivery]:
    query = select(Delivery).where(
        Delivery.state == DeliveryState.FAILED.value,
        Delivery.program_id == group.program_id,
        col(Delivery.step).not_in(sorted(QUIET_STEPS)),
    )
    if group.round_id is not None:
        query = query.where(Delivery.round_id == group.round_id)
    else:
        query = query.where(col(Delivery.round_id).is_(None), col(Delivery.created_at) >= now - timedelta(days=1))
    rows = list((await session.exec(query.order_by(col(Delivery.id)))).all())
    return [
        d
        for d in rows
        if not _is_update(d) and ((d.target.get("kind") == "channel") == group.channel or group.round_id is not None)
    ]


async def _tell(core: Runtime, session: AsyncSession, group: _Group, now: datetime) -> int:
    program = await session.get(Program, group.program_id)
    if program is None:
        return 0
    failed = await _failed_in(session, group, now)
    if not failed:
        return 0
    round_ = await session.get(Round, group.round_id) if group.round_id is not None else None
    admins = await _who_to_tell(core, session, program, round_)
    if not admins:
        log.warning("%d deliveries of program %s failed and it has no admin to tell", len(failed), program.id)
        return 0
    message = await _notice(session, program, round_, failed)
    items = [
        Outgoing(
            key=f"{group.key}:admin:{admin.id}",
            step=NOTICE_STEP,
            target=to_user(admin.platform_user_id),
            message=message,
            program_id=program.id,
        )
        for admin in admins
    ]
    return await enqueue(session, program.workspace_id, items, now)


async def _who_to_tell(core: Runtime, session: AsyncSession, program: Program, round_: Round | None) -> list[User]:
    """The admin who ran the round with `match now`, when one did; else the program's admins."""
    if round_ is not None and round_.matched_at is not None:
        ran = (
            await session.exec(
                select(AuditEntry)
                .where(
                    AuditEntry.program_id == program.id,
                    AuditEntry.action == "match_now",
                    col(AuditEntry.at) <= round_.matched_at + RUN_BY_WINDOW,
                    col(AuditEntry.at) >= round_.matched_at - RUN_BY_WINDOW,
                )
                .order_by(col(AuditEntry.id).desc())
            )
        ).first()
        if ran is not None and ran.actor_user_id is not None:
            user = await session.get(User, ran.actor_user_id)
            if user is not None:
                return [user]
    return await program_admins(core, session, program)


async def _recipients(session: AsyncSession, program: Program, failed: list[Delivery]) -> list[str | Mention]:
    """Who missed out, as mentions (a channel as its name), at most ``NAMES_SHOWN`` then "and N more"."""
    ids: list[str] = []
    channel = False
    for delivery in failed:
        target = delivery.target
        if target.get("kind") == "channel":
            channel = True
        ids += (
            [str(target["user_id"])] if target.get("kind") == "user" else [str(u) for u in target.get("user_ids", [])]
        )
    ids = list(dict.fromkeys(ids))
    names = dict(
        (
            await session.exec(
                select(User.platform_user_id, User.display_name).where(
                    User.workspace_id == program.workspace_id, col(User.platform_user_id).in_(ids)
                )
            )
        ).all()
    )
    parts: list[str | Mention] = []
    for uid in ids[:NAMES_SHOWN]:
        if parts:
            parts.append(", ")
        parts.append(Mention(user_id=uid, name=names.get(uid) or uid))
    if len(ids) > NAMES_SHOWN:
        parts.append(f" and {len(ids) - NAMES_SHOWN} more")
    if channel:
        parts.append(f"{' and ' if parts else ''}the program's channel")  # its id means nothing to a person
    return parts


async def _notice(session: AsyncSession, program: Program, round_: Round | None, failed: list[Delivery]) -> Message:
    count = len(failed)
    noun = "intro" if all(d.step == "intro" for d in failed) else "message"
    what = noun if count == 1 else f"{noun}s"
    where = f"round {round_.number} of **{program.name}**" if round_ is not None else f"**{program.name}**"
    recipients = await _recipients(session, program, failed)
    channel_failed = any(d.target.get("kind") == "channel" for d in failed)
    hint = hint_for([d.last_error or "" for d in failed], channel_failed=channel_failed)
    head = Text.of(f"⚠️ {count} {what} of {where} could not be delivered, to ", *recipients, ".")
    return Message(
        summary=f"{count} {what} of {program.name} could not be delivered",
        blocks=(Section(text=head), Section(text=Text.of(hint))),
    )


async def resend_failed(session: AsyncSession, program_ids: list[int], now: datetime) -> int:
    """Put a program's failed deliveries back in the queue as new (after a reinstall, say); returns how many."""
    if not program_ids:
        return 0
    result = await session.exec(
        update(Delivery)
        .where(
            col(Delivery.program_id).in_(program_ids),
            col(Delivery.state) == DeliveryState.FAILED.value,
            col(Delivery.step) != NOTICE_STEP,
        )
        .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, claimed_by=None)
    )
    return int(result.rowcount or 0)
