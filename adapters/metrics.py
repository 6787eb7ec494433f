"""What the adapters count for `/metrics` (served by tandem/metrics.py from prometheus-client's registry).

Only what a platform tells the adapters lives here (its 429 answers, the Socket Mode connection); the
message counts come from the database at scrape time, so every server reports the same truth.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RATE_LIMITED = Counter(
    "tandem_rate_limited",
    "HTTP 429 (rate limited) answers from a chat platform's API, by platform and API method.",
    ["platform", "method"],
)


def rate_limited(platform: str, method: str) -> None:
    RATE_LIMITED.labels(platform=platform, method=method).inc()


SLACK_BACKLOG = Gauge(
    "tandem_slack_backlog",
    "Slack requests acked and still being worked on in this process (bounded: SlackConfig.backlog_limit).",
)
SLACK_SHED = Counter(
    "tandem_slack_shed",
    "Slack requests turned away because the backlog was full, by kind (event: Slack sends it again; "
    "command: answered 'busy'; interaction: Slack shows the person it failed).",
    ["kind"],
)


def slack_backlog(pending: int) -> None:
    SLACK_BACKLOG.set(pending)


def slack_shed(kind: str) -> None:
    SLACK_SHED.labels(kind=kind).inc()
