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


def abnormal(
    temperature: float | None, symptoms: Iterable[str], *, antipyretic: bool = False
) -> bool:
    """A fever or any symptom: the grid worker must hear of it. So must they of medicine that
    lowers fever taken in the last 24 h: the reading cannot be trusted (it may hide a fever),
    which the seeds and Sara Alert treat like a fever."""
    return fever(temperature) or bool(real_symptoms(symptoms)) or antipyretic


def alert_kind(temperature: float | None, *, antipyretic: bool = False) -> str:
    """The alert an abnormal reading raises: a fever, else fever-reducing medicine (the reading
    is unreliable), else symptoms."""
    if fever(temperature):
        return "fever"
    return "antipyretic" if antipyretic else "symptoms"


__all__ = ["FEVER", "NO_SYMPTOMS", "abnormal", "alert_kind", "fever", "real_symptoms"]
