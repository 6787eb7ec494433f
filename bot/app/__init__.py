"""Routing one inbound event to its handler, and the views a person opens: home, status, help."""
