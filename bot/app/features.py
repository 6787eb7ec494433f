"""Every feature package's commands, buttons and forms, registered by importing each module once, here.

``FEATURES`` is the order of the help text: the app's own commands, the participant's, then the admin
commands (import order doesn't matter). Registering a name twice raises, so a feature can't silently replace another's.
"""

from __future__ import annotations

from bot.admin import commands as admin_commands
from bot.admin import content_commands, delivery_commands, program_commands, risk_actions
from bot.app import commands as app_commands
from bot.booking import buttons as booking_buttons
from bot.chat import registry
from bot.engagement import survey_buttons
from bot.privacy import commands as privacy_commands
from bot.programs import commands as program_membership
from bot.programs import words as everyday_words
from bot.relationships import chats as relationship_chats
from bot.relationships import commands as relationship_commands
from bot.relationships import wrapup

FEATURES = (
    app_commands,  # help, status
    program_membership,  # join, leave, profile, pause, resume, avoid; membership buttons; the profile form
    everyday_words,  # stop/unsubscribe/opt out (asks, then leave), snooze/vacation (pause), feedback
    privacy_commands,  # my data, forget me, forget @person; the forget confirm buttons
    relationship_commands,  # agreement, goals; the agreement form and its buttons; goal review buttons
    program_commands,  # program create/list/settings, match preview/now, icebreaker now; the program form
    admin_commands,  # stats, risk, export, import, announce, remove, pause @person, audit
    content_commands,  # icebreaker/prompt/question add, content list/remove, survey results
    delivery_commands,  # resend failed
    risk_actions,  # the at-risk digest's buttons
    booking_buttons,  # propose, accept, decline
    relationship_chats,  # after each chat: we met, it didn't happen, the recap form
    survey_buttons,  # answers, comments and the comment form
    wrapup,  # the end of a mentoring relationship: keep meeting or wrap up, celebrate or not
)

registry.order_by_module([module.__name__ for module in FEATURES])
