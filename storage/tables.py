"""Tandem's database tables.

Every instant is stored as UTC (``UTCDateTime``); times of day ("09:00") are stored as text next to the
IANA zone they belong to, because a local time only means something together with its zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Workspace(SQLModel, table=True):
    """A Slack team or a Teams tenant (or the console's simulated one)."""

    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=200)
    bot_user_id: str | None = Field(default=None, max_length=128)
    installed_at: datetime | None = _utc(default=None)
    uninstalled_at: datetime | None = _utc(default=None)
    settings: dict[str, Any] = _json_dict()


class Installation(SQLModel, table=True):
    """Credentials a platform handed us when the app was installed (e.g. Slack OAuth)."""

    __tablename__ = "installation"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    enterprise_id: str | None = Field(default=None, max_length=128)
    bot_token: str | None = Field(default=None, sa_column=Column(Text))
    bot_user_id: str | None = Field(default=None, max_length=128)
    bot_id: str | None = Field(default=None, max_length=128)
    installer_user_id: str | None = Field(default=None, max_length=128)
    data: dict[str, Any] = _json_dict()
    installed_at: datetime | None = _utc(default=None)


class User(SQLModel, table=True):
    """A person on one platform. Their zone and working hours drive matching and booking."""

    __tablename__ = "tandem_user"
    __table_args__ = (UniqueConstraint("workspace_id", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    platform_user_id: str = Field(max_length=128)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    timezone: str = Field(default="UTC", max_length=64)
    timezone_from_profile: bool = False
    work_start: str = Field(default="09:00", max_length=5)
    work_end: str = Field(default="17:00", max_length=5)
    day_start: str = Field(default="08:00", max_length=5)  # quiet hours: what can wait comes only in
    day_end: str = Field(default="20:00", max_length=5)  # ... this day, in their zone, and not on their weekend
    weekend: list[int] = Field(  # weekdays, Monday = 0
        default_factory=lambda: [5, 6], sa_column=Column(JSON, nullable=False, default=lambda: [5, 6])
    )
    is_platform_admin: bool = False
    shoutouts: bool = True
    is_bot: bool = False
    about_me: str | None = Field(default=None, max_length=280)  # in their own words; intros show it
    ask_me_about: str | None = Field(default=None, max_length=200)
    self_entered: list[str] = _json_list()  # fields the person set themselves: imports keep them (timezone…)
    created_at: datetime | None = _utc(default=None)
    updated_at: datetime | None = _utc(default=None)
    last_active_at: datetime | None = _utc(default=None)  # their own last event, for the retention limit


class Avoidance(SQLModel, table=True):
    """A private 'please never match me with' entry. Only the person who made it can see it."""

    __tablename__ = "avoidance"
    __table_args__ = (UniqueConstraint("user_id", "avoided_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="tandem_user.id", index=True)
    avoided_user_id: int = Field(foreign_key="tandem_user.id")
    created_at: datetime | None = _utc(default=None)


class Program(SQLModel, table=True):
    """A mentoring or peer program run on one channel."""

    __tablename__ = "program"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=200)
    channel_id: str = Field(max_length=128, index=True)
    kind: str = Field(max_length=16)
    cadence: str = Field(default="weekly", max_length=16)
    intro_weekday: int = 0  # Monday = 0
    intro_time: str = Field(default="10:00", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    group_size: int = 2
    enrolment: str = Field(default="opt_in", max_length=16)
    status: str = Field(default="active", max_length=16)
    avoid_repeat_rounds: int = 12
    prefer_different_department: bool = True
    weights: dict[str, Any] = _json_dict()
    meeting_minutes: int = 30
    reminder_minutes: int = 60
    holidays: list[str] = _json_list()
    track_weeks: int = 12
    weekly_cap: int = 4  # unprompted messages a person gets per week at most (bot/delivery/pacing.py)
    starts_on: datetime | None = _utc(default=None)
    created_by_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    created_at: datetime | None = _utc(default=None)


class Membership(SQLModel, table=True):
    """A person's place in a program: role, profile and availability."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("program_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    user_id: int = Field(foreign_key="tandem_user.id", index=True)
    role: str = Field(default="peer", max_length=16)
    capacity: int = 1
    skills_offered: list[str] = _json_list()
    skills_wanted: list[str] = _json_list()
    interests: list[str] = _json_list()
    department: str | None = Field(default=None, max_length=120)
    status: str = Field(default="active", max_length=16)
    paused_until: datetime | None = _utc(default=None)
    opted_out: bool = False
    wants_rematch: bool = False
    ignored_intros: int = 0
    consented_at: datetime | None = _utc(default=None)
    joined_at: datetime | None = _utc(default=None)
    left_at: datetime | None = _utc(default=None)
    self_entered: list[str] = _json_list()  # profile fields the person set themselves: imports keep them


class Round(SQLModel, table=True):
    """One matching round of a program. The seed makes its matching reproducible."""

    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("program_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    number: int
    seed: int
    status: str = Field(default="planned", max_length=16)
    scheduled_for: datetime | None = _utc(default=None)
    matched_at: datetime | None = _utc(default=None)
    stats: dict[str, Any] = _json_dict()


class Match(SQLModel, table=True):
    """A group introduced to each other in a round."""

    __tablename__ = "match"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    status: str = Field(default="introduced", max_length=16)
    score: float = 0.0
    reasons: list[str] = _json_list()
    conversation_id: str | None = Field(default=None, max_length=256)
    created_at: datetime | None = _utc(default=None)
    met_at: datetime | None = _utc(default=None)
    meetings_count: int = 0
    ended_at: datetime | None = _utc(default=None)  # when the relationship ended (status "ended")
    end_reason: str | None = Field(default=None, max_length=16)  # storage.enums.EndReason
    cadence: str | None = Field(default=None, max_length=16)  # agreed chat cadence; None: the program's


class MatchMember(SQLModel, table=True):
    __tablename__ = "match_member"
    __table_args__ = (UniqueConstraint("match_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    user_id: int = Field(foreign_key="tandem_user.id", index=True)
    role: str = Field(default="peer", max_length=16)


class Waitlist(SQLModel, table=True):
    """Someone a round could not place, with the reason the bot tells them."""

    __tablename__ = "waitlist"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    user_id: int = Field(foreign_key="tandem_user.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))


class StepRun(SQLModel, table=True):
    """The ledger of scheduled steps: the database, not the timer, says what is due and what is done."""

    __tablename__ = "step_run"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    program_id: int = Field(foreign_key="program.id", index=True)
    kind: str = Field(max_length=32)
    round_number: int | None = None
    due_at: datetime = _utc()
    state: str = Field(default="pending", max_length=16)
    started_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class Delivery(SQLModel, table=True):
    """An outgoing message, written before it is sent so nothing is lost or sent twice."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_message", "workspace_id", "platform_message_id"),  # a click in a digest
        Index("ix_delivery_counted", "workspace_id", "counted_at"),  # pacing's ledger of the last days
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="round.id", index=True)
    match_id: int | None = Field(default=None, foreign_key="match.id")
    step: str = Field(max_length=64)
    target: dict[str, Any] = _json_dict()
    message: dict[str, Any] = _json_dict()
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _utc(default=None)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _utc(default=None)
    conversation_id: str | None = Field(default=None, max_length=256)
    platform_message_id: str | None = Field(default=None, max_length=256)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = _utc(default=None)
    sent_at: datetime | None = _utc(default=None)
    held_at: datetime | None = _utc(default=None)  # first held back (quiet hours or the weekly cap)
    held_reason: str | None = Field(default=None, max_length=32)  # storage.enums.HoldReason
    counted_at: datetime | None = _utc(default=None)  # counted against its readers' weekly cap
    digest_id: int | None = Field(default=None, index=True)  # the day's digest that carries this message


class SurveyInstance(SQLModel, table=True):
    """One sending of a survey definition to a group of people."""

    __tablename__ = "survey_instance"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    program_id: int = Field(foreign_key="program.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="round.id")
    match_id: int | None = Field(default=None, foreign_key="match.id")
    definition_id: str = Field(max_length=64)
    anonymous: bool = False
    salt: str | None = Field(default=None, max_length=64)  # anonymous only; wiped at close
    opened_at: datetime | None = _utc(default=None)
    closes_at: datetime | None = _utc(default=None)
    reminded_at: datetime | None = _utc(default=None)
    closed_at: datetime | None = _utc(default=None)


class SurveyAnswer(SQLModel, table=True):
    """One person's current answer to one question; changing it updates the same row.

    For anonymous surveys ``user_id`` stays empty and ``respondent_key`` is a one-way token that only
    lets the same person change their answer.
    """

    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("instance_id", "question_id", "respondent_key"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="survey_instance.id", index=True)
    question_id: str = Field(max_length=64)
    respondent_key: str = Field(max_length=128)
    user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    value: str = Field(sa_column=Column(Text, nullable=False))
    answered_at: datetime | None = _utc(default=None)


class SurveyRecipient(SQLModel, table=True):
    """Who was asked, and whether they answered (kept apart from anonymous answers)."""

    __tablename__ = "survey_recipient"
    __table_args__ = (UniqueConstraint("instance_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="survey_instance.id", index=True)
    user_id: int = Field(foreign_key="tandem_user.id")
    answered: bool = False


class Meeting(SQLModel, table=True):
    """A coffee chat being booked or booked for a match."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    state: str = Field(default="offered", max_length=16)
    slots: list[str] = _json_list()  # ISO UTC starts offered
    start_at: datetime | None = _utc(default=None)
    end_at: datetime | None = _utc(default=None)
    proposed_by_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    accepted_user_ids: list[int] = _json_list()
    confirmed_at: datetime | None = _utc(default=None)
    reminder_at: datetime | None = _utc(default=None)
    created_at: datetime | None = _utc(default=None)
    nudged_at: datetime | None = _utc(default=None)  # when the group was reminded to pick a time (once per offer)
    followed_up_at: datetime | None = _utc(default=None)  # when "how did it go?" went out after the chat
    held_at: datetime | None = _utc(default=None)  # when someone confirmed the chat took place


class Agreement(SQLModel, table=True):
    """How a mentoring pair agreed to work: one per match, proposed by one side and confirmed by the other."""

    __tablename__ = "agreement"
    __table_args__ = (UniqueConstraint("match_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id")
    cadence: str = Field(max_length=16)  # storage.enums.Cadence
    medium: str = Field(max_length=16)  # storage.enums.Medium
    avoid: str | None = Field(default=None, sa_column=Column(Text))
    proposed_by_user_id: int = Field(foreign_key="tandem_user.id")
    proposed_at: datetime | None = _utc(default=None)
    confirmed_by_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    confirmed_at: datetime | None = _utc(default=None)
    reminded: int = 0  # gentle reminders sent while nothing was agreed


class Goal(SQLModel, table=True):
    """One of a pair's own goals (1 to 3 per match), in their words, with where it stands."""

    __tablename__ = "goal"
    __table_args__ = (UniqueConstraint("match_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    owner_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")  # who wrote it down
    position: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="not_started", max_length=16)  # storage.enums.GoalStatus
    created_at: datetime | None = _utc(default=None)
    updated_at: datetime | None = _utc(default=None)


class Recap(SQLModel, table=True):
    """A private note after a chat, with action items; only the pair ever sees it."""

    __tablename__ = "recap"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    author_user_id: int = Field(foreign_key="tandem_user.id")
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    action_items: list[str] = _json_list()
    created_at: datetime | None = _utc(default=None)


class IcebreakerPost(SQLModel, table=True):
    """A question posted to a channel; answers arrive in its thread."""

    __tablename__ = "icebreaker_post"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    channel_id: str = Field(max_length=128)
    question_id: str = Field(max_length=64)
    cycle: int = 0
    posted_at: datetime | None = _utc(default=None)
    message_id: str | None = Field(default=None, max_length=256)


class CustomContent(SQLModel, table=True):
    """Prompts, icebreakers and survey questions added by admins."""

    __tablename__ = "custom_content"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="program.id")
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = _json_dict()
    created_by_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    created_at: datetime | None = _utc(default=None)


class ConversationAddress(SQLModel, table=True):
    """Where a platform lets us write proactively (e.g. a Teams conversation reference)."""

    __tablename__ = "conversation_address"
    __table_args__ = (UniqueConstraint("workspace_id", "conversation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    conversation_id: str = Field(max_length=256)
    scope: str = Field(max_length=32)  # personal, groupChat, channel, team
    user_id: int | None = Field(default=None, foreign_key="tandem_user.id", index=True)
    reference: dict[str, Any] = _json_dict()
    gone: bool = False
    updated_at: datetime | None = _utc(default=None)


class AuditEntry(SQLModel, table=True):
    """Who did what, when: every admin action."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    program_id: int | None = Field(default=None, foreign_key="program.id")
    action: str = Field(max_length=64)
    details: dict[str, Any] = _json_dict()
    at: datetime | None = _utc(default=None)


class ProcessedEvent(SQLModel, table=True):
    """Inbound events and clicks already handled, so platform retries and double clicks act once."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    at: datetime | None = _utc(default=None)


class TeamsPendingFile(SQLModel, table=True):
    """A file offered in Teams with a file-consent card, kept until the person accepts or declines it.

    Teams bots may only put a file into someone's OneDrive after they accept the card, which can be days
    later and after a restart, so the bytes wait here (at most about a week; see adapters/teams/files.py).
    """

    __tablename__ = "teams_pending_file"
    __table_args__ = (UniqueConstraint("token"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64)  # what the card's acceptContext/declineContext hand back
    offer_key: str = Field(max_length=64, index=True)  # the same file of the same message is offered once
    tenant_id: str = Field(max_length=128)
    user_id: str = Field(max_length=256)  # the Teams user id (29:...)
    filename: str = Field(max_length=255)
    mime_type: str = Field(max_length=128)
    title: str = Field(default="", max_length=300)
    content: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(max_length=16)  # offered, uploading, sent, declined
    consent_activity_id: str | None = Field(default=None, max_length=256)
    created_at: datetime | None = _utc(default=None, index=True)
    updated_at: datetime | None = _utc(default=None)


class TeamsForm(SQLModel, table=True):
    """A form shown as a Teams card, kept so the card's action data can carry a short reference instead of
    the whole form (Teams caps a message at ~28 KB) and long option lists can be searched as one types.

    The key is a digest of the tenant and the form, so showing the same form again reuses the row."""

    __tablename__ = "teams_form"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    tenant_id: str = Field(max_length=128)
    form: str = Field(sa_column=Column(Text, nullable=False))  # the neutral Form as JSON
    created_at: datetime | None = _utc(default=None, index=True)


class SlackGroupDM(SQLModel, table=True):
    """The group DM Slack gave for a set of people, so messages after a restart skip conversations.open.

    conversations.open is Slack's scarcest budget (Tier 3, about 50 a minute): a weekly prompt to 1,000 pairs
    would otherwise spend 20 minutes reopening conversations the bot already has."""

    __tablename__ = "slack_group_dm"
    __table_args__ = (UniqueConstraint("workspace_id", "members"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=64)
    members: str = Field(sa_column=Column(Text, nullable=False))  # sorted user ids, comma-separated
    channel_id: str = Field(max_length=64)
    opened_at: datetime | None = _utc(default=None)


class ChannelSync(SQLModel, table=True):
    """One pass over the people already in a program's channel: invite or enrol each of them exactly once.

    The member list is stored when fetched, then worked through in batches; each batch commits its
    memberships, its messages (outbox, one key per program and person) and ``position`` together, so a
    restart carries on from the last batch: nobody is reached twice, nobody is skipped.
    """

    __tablename__ = "channel_sync"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    channel_id: str = Field(max_length=128)
    state: str = Field(default="pending", max_length=16)  # storage.enums.SyncState
    requested_by_user_id: int | None = Field(default=None, foreign_key="tandem_user.id")
    reason: str = Field(default="", max_length=32)  # created, sync, channel_changed
    members: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    total: int = 0  # people in the channel (bots and deactivated accounts left out)
    position: int = 0  # how many of ``members`` were worked through
    invited: int = 0
    enrolled: int = 0
    unchanged: int = 0  # already in the program, or already asked
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = _utc(default=None)  # the worker's lease; renewed every batch
    created_at: datetime | None = _utc(default=None)
    started_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class ServerHeartbeat(SQLModel, table=True):
    """Each running ``tandem serve`` writes here every few seconds; a row gone quiet is a dead server.

    Its claimed deliveries (claim tokens start with its instance id) go back to the queue as soon as it is
    known dead, instead of waiting out the 5-minute lease (bot/delivery/heartbeat.py)."""

    __tablename__ = "server_heartbeat"

    instance_id: str = Field(primary_key=True, max_length=128)
    started_at: datetime | None = _utc(default=None)
    beat_at: datetime | None = _utc(default=None, index=True)
