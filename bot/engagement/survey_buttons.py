"""Survey clicks and the comment form: answer a choice or rating, open and submit a free-text comment."""

from __future__ import annotations

from bot.chat.context import Ctx, say
from bot.chat.registry import decode, on_click, on_submit
from bot.engagement.surveys import (
    ANSWER,
    COMMENT,
    FORM,
    REMATCH_NOTE,
    AnswerRef,
    QuestionRef,
    SurveyError,
    comment_form,
    definition_for,
    instance_for,
    my_answers,
    record_answer,
)
from bot.kernel.events import FormErrors, FormSubmittedEvent, OpenForm, Reply, Response
from bot.kernel.messages import Section, Text


@on_click(ANSWER)
async def answer_clicked(ctx: Ctx, value: AnswerRef) -> Response:
    """Save the answer and redraw the survey with it ticked; a rematch also says what happens next."""
    outcome, updated = await record_answer(
        ctx.core, ctx.session, ctx.user, value.instance_id, value.question_id, value.answer
    )
    if outcome.text == REMATCH_NOTE:  # say what happens next, not just "saved"
        updated = updated.model_copy(update={"blocks": (*updated.blocks, Section(text=Text.of(outcome.text)))})
    return Reply(message=updated, replace_original=True)


@on_click(COMMENT)
async def comment_clicked(ctx: Ctx, value: QuestionRef) -> Response:
    """Open the comment form, filled with the comment already given (it can be changed until closing)."""
    instance = await instance_for(ctx.session, value.instance_id, ctx.user)
    survey = await definition_for(ctx.session, instance)
    question = next((q for q in survey.questions if q.id == value.question_id), None)
    if question is None:
        return say("That question is not part of this survey.")
    current = (await my_answers(ctx.session, instance, ctx.user)).get(question.id, "")
    return OpenForm(form=comment_form(instance.id or 0, question, current, anonymous=instance.anonymous))


@on_submit(FORM)
async def comment_submitted(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """A comment (or rating) typed in the form; problems are shown on the form's field."""
    ref = decode(QuestionRef, event.state) or QuestionRef(-1, "")
    raw = event.values.get("answer")
    text = raw[0] if isinstance(raw, list) and raw else (raw or "")
    try:
        outcome, _ = await record_answer(ctx.core, ctx.session, ctx.user, ref.instance_id, ref.question_id, str(text))
    except SurveyError as exc:
        return FormErrors(errors={"answer": str(exc)})
    return say(outcome.text)
