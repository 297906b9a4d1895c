"""Button data, built and read in one place (aiogram's `CallbackData` idea).

Two kinds of data travel in an inline button, both well under Telegram's 64 bytes:
- an answer to a question: ``STEP|VALUE`` — the engine hands VALUE to the step's widget, and
  refuses a button whose STEP is not the question open now (a stale or forged button);
- a command: ``/NAME ARG…`` — pressed, it works like the user typing the command, so a
  button in a message the bot started ("I have arrived", an alert's "Acknowledge") needs
  no conversation state.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.contract import Button

SEPARATOR = "|"


def answer_data(step: str, value: str) -> str:
    """The data of a button that answers `step` with `value`."""
    return f"{step}{SEPARATOR}{value}"


def answer_button(text: str, step: str, value: str) -> Button:
    return Button(text, answer_data(step, value))


def read_answer(data: str) -> tuple[str, str]:
    """(step, value) of an answer button's data; ("", "") for anything else."""
    step, separator, value = data.partition(SEPARATOR)
    return (step, value) if separator else ("", "")


@dataclass(frozen=True)
class CommandData:
    """A command a button sends: ``CommandData("ack").button("✅", 12)`` → ``/ack 12``."""

    name: str

    def data(self, *args: object) -> str:
        return " ".join([f"/{self.name}", *(str(a) for a in args)])

    def button(self, text: str, *args: object) -> Button:
        return Button(text, self.data(*args))


def read_command(data: str) -> tuple[str, str] | None:
    """(name, arguments) of a command button's data; None for an answer button."""
    if not data.startswith("/"):
        return None
    name, _, args = data[1:].partition(" ")
    return name, args


__all__ = [
    "SEPARATOR",
    "CommandData",
    "answer_button",
    "answer_data",
    "read_answer",
    "read_command",
]
