"""The outbox: every outgoing message written first, then claimed, sent and recorded; private notes to admins."""
