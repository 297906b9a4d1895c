"""What counts as abnormal in a reading: one definition for the check-in, the arrival report,
the plan's classification, the registers and the daily report.

Fever is 37.3 °C or more (the threshold the seeds' fever clinics use); any symptom reported
is abnormal; "none" is the answer "none of these", never a symptom.
"""

from __future__ import annotations

from collections.abc import Iterable

FEVER = 37.3
NO_SYMPTOMS = "none"


def fever(temperature: float | None) -> bool:
    return temperature is not None and temperature >= FEVER


def real_symptoms(symptoms: Iterable[str]) -> list[str]:
    """The symptoms reported, without the "none of these" answer."""
    return [s for s in symptoms if s != NO_SYMPTOMS]


def abnormal(temperature: float | None, symptoms: Iterable[str]) -> bool:
    """A fever or any symptom: the grid worker must hear of it."""
    return fever(temperature) or bool(real_symptoms(symptoms))


def alert_kind(temperature: float | None) -> str:
    """The alert an abnormal reading raises: a fever, else symptoms."""
    return "fever" if fever(temperature) else "symptoms"


__all__ = ["FEVER", "NO_SYMPTOMS", "abnormal", "alert_kind", "fever", "real_symptoms"]
