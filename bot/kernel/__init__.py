"""Shared vocabulary: events, messages, the port, the clock, time helpers, the runtime interface."""
