"""Tandem command line (minimal; the lead's full CLI adds more commands)."""

from __future__ import annotations

import typer

from tandem.match_cli import match

app = typer.Typer(name="tandem", no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """Tandem: mentoring programs and coffee chats for Slack and Teams."""
    # A callback keeps `match` a subcommand even while it is the only command.


app.command("match")(match)


def main() -> None:
    app()
