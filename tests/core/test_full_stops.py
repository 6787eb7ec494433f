"""A name that ends with an initial ("Ben A.") closes a sentence with one full stop, not two."""

from __future__ import annotations

from bot.kernel.messages import Mention, Message, Section, Text


def test_one_full_stop_after_an_initial() -> None:
    ben = Mention(user_id="U2", name="Ben A.")
    assert Text.of("Sent to ", ben, ".").plain() == "Sent to Ben A."
    assert Text.of("Nudged Ana and Ben A.. Done.").plain() == "Nudged Ana and Ben A. Done."
    assert Text.of("Wait for it...").plain() == "Wait for it..."
    assert Text.of(ben, "... and then").plain() == "Ben A.... and then"
    stored = Message(summary="x", blocks=(Section(text=Text.of("Agreed with ", ben, ". 🤝")),))
    assert Message.model_validate_json(stored.model_dump_json()).plain_text().endswith("Ben A. 🤝")
