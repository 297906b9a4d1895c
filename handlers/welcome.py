"""First contact, as the user meets it: the privacy notice and consent, in the language
Telegram says the user reads (when it is one of ours), with the languages offered as buttons
on the same message. `/language` changes it later.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.buttons import answer_button
from chat.contract import Reply, Send, rows
from chat.forms import RESUME, Choice, Option, Outcome, Prompt, Redraw
from chat.i18n import LANGUAGES, N_, Translator
from handlers.context import Flow, Step, Turn, Widget
from handlers.invites import accept_invitation
from handlers.pushed import open_link

LANGUAGE_OPTIONS = tuple(Option(code, label) for code, label in LANGUAGES.items())

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
# A companion's invitation token, kept while she reads the privacy notice.
INVITATION = "_invitation"
# Button data of a language button on the notice (an answer button's value).
LANGUAGE_PREFIX = "language:"


@dataclass(frozen=True)
class Consent(Widget):
    """The privacy notice with "I agree / I do not agree", and a row of languages: pressing
    one redraws the notice in it, on the same message."""

    key: str = "consent"

    def prompt(self, turn: Turn, step: str) -> Prompt:
        choice = Choice(self.key, PRIVACY_NOTICE, CONSENT_OPTIONS).prompt(turn, step)
        languages = rows(
            *(
                answer_button(
                    ("✓ " if code == turn.tr.language else "") + label,
                    step,
                    LANGUAGE_PREFIX + code,
                )
                for code, label in LANGUAGES.items()
            ),
            width=3,
        )
        return Prompt(choice.text, (*choice.buttons, *languages))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed is None:
            # Typing a language's name works like its button.
            typed = (turn.event.text or "").strip().casefold()
            pressed = next(
                (LANGUAGE_PREFIX + c for c, name in LANGUAGES.items() if name.casefold() == typed),
                None,
            )
        language = (pressed or "").removeprefix(LANGUAGE_PREFIX)
        if pressed is not None and pressed.startswith(LANGUAGE_PREFIX) and language in LANGUAGES:
            turn.user.language = language
            turn.tr = Translator(language)
            return Redraw()
        return Choice(self.key, PRIVACY_NOTICE, CONSENT_OPTIONS).take(turn, pressed)


def use_language(turn: Turn) -> None:
    """From this answer on, every text is in the chosen language."""
    turn.user.language = turn.answers.pop("language")
    turn.tr = Translator(turn.user.language)


async def consent_given(turn: Turn) -> list[Reply]:
    # From now on the user reads the language the notice was agreed (or declined) in.
    turn.user.language = turn.tr.language
    token = turn.answers.pop(INVITATION, None)
    if turn.answers.pop("consent") == "yes":
        turn.user.consented_at = turn.now
        turn.user.declined_at = None
        if token:
            # A pushed list's personal link: their report begins, linked to the list.
            from_list = await open_link(turn, token)
            if from_list is not None:
                return from_list
            # Invited by whoever reported her: nothing to report, her check-ins to answer.
            return await accept_invitation(turn, token)
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
    (Step("ask_consent", Consent()),),
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
