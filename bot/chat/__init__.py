"""The command and button framework: grammar, one registry each, the per-event context. Knows no feature."""
