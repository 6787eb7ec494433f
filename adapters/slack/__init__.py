"""Slack adapter: translates Slack payloads into Tandem's neutral events and neutral messages into Block Kit.

Nothing in here decides anything about programs or people; that is the core's job (``bot/``).
"""
