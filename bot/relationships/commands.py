"""A mentoring pair's agreement and goals: the `agreement` and `goals` commands, their buttons and form.

Registered at import (``bot.app.features`` imports this module once).
"""

from __future__ import annotations

from bot.chat.context import Ctx, say, say_lines
from bot.chat.grammar import ParsedCommand
from bot.chat.registry import command, on_click, on_submit
from bot.kernel.events import FormErrors, FormSubmittedEvent, OpenForm, Reply, Response
from bot.relationships.agreements import (
    CHANGE,
    CONFIRM,
    FORM,
    OPEN,
    AgreementError,
    MatchRef,
    Pair,
    ProposalRef,
    agreement_form,
    confirm,
    confirmed_message,
    current,
    live_pairs,
    load_pair,
    names,
    parse_terms,
    pending_proposal,
    propose,
)
from bot.relationships.goal_reviews import SET_STATUS, GoalChoice, set_goal_status
from bot.relationships.goals import goal_lines

NO_MATCH = "You have no live mentoring match right now, so there's nothing to agree yet."


async def _pick(ctx: Ctx, cmd: ParsedCommand) -> Pair:
    """The mentoring match the person means: their only one, or the one with the person they mention."""
    pairs = await live_pairs(ctx.session, ctx.user)
    if not pairs:
        raise AgreementError(NO_MATCH)
    named = [a for a in cmd.args if cmd.is_person(a)]
    if named:
        chosen = _with(ctx, cmd, pairs)
        if chosen is None:
            raise AgreementError(
                f"You have no live mentoring match with {' '.join(named)}. Yours: {_partners(ctx, pairs)}."
            )
        return chosen
    if len(pairs) > 1:
        raise AgreementError(
            f"You have several mentoring matches: {_partners(ctx, pairs)}. Say which one, e.g. `agreement @name`."
        )
    return pairs[0]


def _with(ctx: Ctx, cmd: ParsedCommand, pairs: list[Pair]) -> Pair | None:
    """The pair with the person named: a structured mention, or ``@name`` typed as text."""
    ids = {m.user_id for m in cmd.mentions}
    typed = {a.lstrip("@").casefold() for a in cmd.args if a.startswith("@")}
    for pair in pairs:
        if any(u.platform_user_id in ids or u.display_name.casefold() in typed for u in pair.others(ctx.user)):
            return pair
    return None


def _partners(ctx: Ctx, pairs: list[Pair]) -> str:
    return "; ".join(f"{names(p.others(ctx.user))} ({p.program.name})" for p in pairs)


@command("agreement", "agreement [@person]", "Agree goals and how you'll work with your mentoring match.")
async def agreement_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    pair = await _pick(ctx, cmd)
    agreement, goals = await current(ctx.session, pair.match.id)
    return OpenForm(form=agreement_form(pair, ctx.user, agreement, goals))


@command("goals", "goals", "Your mentoring goals and where each stands.")
async def goals_command(ctx: Ctx, cmd: ParsedCommand) -> Response:
    pairs = await live_pairs(ctx.session, ctx.user)
    if not pairs:
        return say("You have no live mentoring match right now, so no goals yet.")
    lines: list[str] = []
    for pair in pairs:
        _, goals = await current(ctx.session, pair.match.id)
        lines.append(f"**With {names(pair.others(ctx.user))}** ({pair.program.name})")
        if not goals:
            lines.append("No goals yet: `agreement` writes down 1 to 3 of them with your match.")
            continue
        authors = {u.id: ("you" if u.id == ctx.user.id else u.display_name) for u in pair.members}
        for goal, line in zip(goals, goal_lines(goals), strict=True):
            lines.append(f"{line}, by {authors.get(goal.owner_user_id, 'someone who left')}")
    return say_lines("Your goals", lines)


# --- buttons and the form --------------------------------------------------------------------------------


@on_click(OPEN)
async def open_clicked(ctx: Ctx, value: MatchRef) -> Response:
    pair = await load_pair(ctx.session, value.match_id, ctx.user)
    agreement, goals = await current(ctx.session, pair.match.id)
    return OpenForm(form=agreement_form(pair, ctx.user, agreement, goals))


@on_click(CONFIRM)
async def confirm_clicked(ctx: Ctx, value: ProposalRef) -> Response:
    pair = await load_pair(ctx.session, value.match_id, ctx.user)
    text = await confirm(ctx.core, ctx.session, pair, ctx.user, value.version)
    agreement, goals = await current(ctx.session, pair.match.id)
    if agreement is None or agreement.confirmed_at is None:
        return say(text)
    return Reply(message=confirmed_message(pair, agreement, goals, ctx.user, text), replace_original=True)


@on_click(CHANGE)
async def change_clicked(ctx: Ctx, value: ProposalRef) -> Response:
    """Suggest changes: the same form, filled with the proposal, to propose back."""
    pair = await load_pair(ctx.session, value.match_id, ctx.user)
    agreement = await pending_proposal(ctx.session, pair, ctx.user, value.version)
    _, goals = await current(ctx.session, pair.match.id)
    return OpenForm(form=agreement_form(pair, ctx.user, agreement, goals))


@on_submit(FORM)
async def agreement_submitted(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """Problems go back to the form and change nothing; a good proposal goes to the others to confirm."""
    if not event.state.isdigit():
        return say("That form is damaged; please open it again. Nothing was changed.")
    pair = await load_pair(ctx.session, int(event.state), ctx.user)
    terms, errors = parse_terms(event.values)
    if terms is None:
        return FormErrors(errors=errors)
    await propose(ctx.core, ctx.session, pair, ctx.user, terms)
    return say(f"Sent to {names(pair.others(ctx.user))} to confirm. I'll tell you when they do.")


@on_click(SET_STATUS)
async def status_clicked(ctx: Ctx, value: GoalChoice) -> Response:
    return Reply(message=await set_goal_status(ctx.core, ctx.session, ctx.user, value), replace_original=True)
