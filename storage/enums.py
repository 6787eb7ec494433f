"""The closed vocabularies stored in the database (kept here so storage never imports the core)."""

from enum import StrEnum


class PlatformKind(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"


class ProgramKind(StrEnum):
    MENTORING = "mentoring"
    PEER = "peer"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class Enrolment(StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class ProgramStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    PEER = "peer"


class MembershipStatus(StrEnum):
    INVITED = "invited"  # told about the program, has not said yes (opt-in)
    ACTIVE = "active"
    LEFT = "left"


class RoundStatus(StrEnum):
    PLANNED = "planned"
    MATCHED = "matched"
    CLOSED = "closed"


class MatchStatus(StrEnum):
    INTRODUCED = "introduced"
    SCHEDULED = "scheduled"
    MET = "met"
    NOT_MET = "not_met"
    ENDED = "ended"


class EndReason(StrEnum):
    """Why a match ended."""

    ROUND_OVER = "round_over"  # a peer group, when the program's next round starts
    TRACK_OVER = "track_over"  # a mentoring pair at the end of its track
    INFORMAL = "informal"  # the pair chose to keep meeting on their own; the bot stops prompting
    REMATCH = "rematch"  # "not a good fit" / "we can't meet", or an admin's rematch
    LEFT = "left"  # someone left the program
    REMOVED = "removed"  # an admin removed someone


class Medium(StrEnum):
    VIDEO = "video"
    CALL = "call"
    CHAT = "chat"
    IN_PERSON = "in_person"


class GoalStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    STUCK = "stuck"
    DONE = "done"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BUNDLED = "bundled"  # carried by a day's digest (digest_id); marked sent when the digest is


class HoldReason(StrEnum):
    """Why a delivery waited, or was dropped (bot/delivery/pacing.py); admins see it in the report."""

    QUIET_HOURS = "quiet_hours"
    WEEKLY_CAP = "weekly_cap"
    DROPPED_CAP = "dropped_weekly_cap"


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class MeetingState(StrEnum):
    OFFERED = "offered"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class SyncState(StrEnum):
    """A channel sync: reaching the people already in a program's channel (bot/programs/channel_sync.py)."""

    PENDING = "pending"  # asked for; no worker has the member list yet
    RUNNING = "running"  # the member list is stored; people are being reached batch by batch
    DONE = "done"
    FAILED = "failed"  # the platform couldn't list the channel (the detail says why); a new sync may follow
