"""Matching rounds, intros and the life of a match."""
