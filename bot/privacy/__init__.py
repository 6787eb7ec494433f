"""Privacy: what Tandem holds about a person (``my data``), forgetting them, and retention limits."""
