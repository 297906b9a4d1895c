"""First contact, as the user meets it: the language, then the privacy notice and consent.

`/language` reuses the language question on its own.
"""

from __future__ import annotations

from chat.contract import Reply, Send
from chat.forms import RESUME, Choice, Option
from chat.i18n import LANGUAGES, N_, Translator
from handlers.context import Flow, Step, Turn

LANGUAGE_OPTIONS = tuple(Option(code, label) for code, label in LANGUAGES.items())
CHOOSE_LANGUAGE = N_("Welcome! Please choose your language.")

PRIVACY_NOTICE = N_(
    "<b>Before we start: your data</b>\n"
    "We ask for your name, phone, ID number, where you will stay, your journey, "
    "where you have been in the last 14 days, who travels with you, and your health.\n\n"
    "<b>Who sees it:</b> the workers of the grid where you stay, and the community, "
    "street and district above them. Nobody else.\n"
    "<b>How long:</b> while you are under a monitoring plan and {retention_days} days "
    "after it ends; then your name, phone, ID number and address are deleted.\n\n"
    "Do you agree?"
)
CONSENT_OPTIONS = (Option("yes", N_("I agree")), Option("no", N_("I do not agree")))


def use_language(turn: Turn) -> None:
    """From this answer on, every text is in the chosen language."""
    turn.user.language = turn.answers.pop("language")
    turn.tr = Translator(turn.user.language)


async def consent_given(turn: Turn) -> list[Reply]:
    if turn.answers.pop("consent") == "yes":
        turn.user.consented_at = turn.now
        turn.user.declined_at = None
        turn.goto = "ask_name"
        return [Send(turn.tr("Thank you. Let's begin; it takes about five minutes."))]
    turn.user.declined_at = turn.now
    turn.user.consented_at = None
    return [
        Send(
            turn.tr(
                "Understood: nothing about you has been stored, only that you declined. "
                "Your community may still contact you. If you change your mind, send /start."
            )
        )
    ]


WELCOME = Flow(
    "welcome",
    (
        Step(
            "ask_language",
            Choice("language", CHOOSE_LANGUAGE, LANGUAGE_OPTIONS, width=3),
            effect=use_language,
        ),
        Step("ask_consent", Choice("consent", PRIVACY_NOTICE, CONSENT_OPTIONS)),
    ),
    finish=consent_given,
)


async def language_changed(turn: Turn) -> list[Reply]:
    turn.goto = turn.answers.pop(RESUME, None)
    return [Send(turn.tr("Language set: {language}.", language=LANGUAGES[turn.tr.language]))]


LANGUAGE = Flow(
    "language",
    (
        Step(
            "ask_new_language",
            Choice("language", N_("Choose your language."), LANGUAGE_OPTIONS, width=3),
            effect=use_language,
        ),
    ),
    finish=language_changed,
)
