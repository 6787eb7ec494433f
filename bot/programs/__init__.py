"""Programs, memberships and consent, people and workspaces, profile and program forms."""
