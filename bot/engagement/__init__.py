"""What keeps pairs talking: conversation prompts, pulse surveys, icebreakers, celebrations, admins' own content."""
