"""One person's monitoring as a FHIR R4 Bundle, as Sara Alert offers it: the Patient, an
Observation per temperature reading (LOINC 8310-5, in °C) and a QuestionnaireResponse per
check-in (completed when answered, stopped when missed, in progress while open)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from models.checkins import CheckIn
from rules.health import real_symptoms
from services.records import Record

# Names in our own namespace for what FHIR leaves to the system that writes it.
SYSTEM = "urn:returnee"
QUESTIONNAIRE = "urn:returnee:questionnaire:daily-checkin"
NAMESPACE = uuid.UUID("9b3f0c52-2a3e-4d0c-8c61-6f1f0e7d4a11")


def _url(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


def _when(at: datetime) -> str:
    return at.isoformat()


def patient(record: Record) -> dict[str, Any]:
    person = record.person
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.id),
        "identifier": [{"system": f"{SYSTEM}:resident", "value": str(person.id)}],
        "active": person.purged_at is None,
    }
    if person.name:
        resource["name"] = [{"text": person.name}]
    if person.phone:
        resource["telecom"] = [{"system": "phone", "value": person.phone, "use": "mobile"}]
    return resource


def temperature(key: str, patient_url: str, value: float, at: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": key,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": "http://loinc.org", "code": "8310-5", "display": "Body temperature"}
            ],
            "text": "Body temperature",
        },
        "subject": {"reference": patient_url},
        "effectiveDateTime": _when(at),
        "valueQuantity": {
            "value": value,
            "unit": "Cel",
            "system": "http://unitsofmeasure.org",
            "code": "Cel",
        },
    }


def response(checkin: CheckIn, patient_url: str) -> dict[str, Any]:
    if checkin.answered_at is not None:
        status = "completed"
    elif checkin.missed_at is not None:
        status = "stopped"
    else:
        status = "in-progress"
    items: list[dict[str, Any]] = []
    if checkin.temperature is not None:
        items.append(
            {
                "linkId": "temperature",
                "text": "Body temperature (°C)",
                "answer": [{"valueDecimal": checkin.temperature}],
            }
        )
    if checkin.answered_at is not None:
        symptoms = real_symptoms(checkin.symptoms or [])
        items.append(
            {
                "linkId": "symptoms",
                "text": "Symptoms",
                "answer": [{"valueString": s} for s in symptoms] or [{"valueString": "none"}],
            }
        )
    if checkin.went_out is not None:
        items.append(
            {
                "linkId": "went-out",
                "text": "Went out",
                "answer": [{"valueBoolean": checkin.went_out}],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"checkin-{checkin.id}",
        "identifier": {"system": f"{SYSTEM}:checkin", "value": str(checkin.id)},
        "questionnaire": QUESTIONNAIRE,
        "status": status,
        "subject": {"reference": patient_url},
        "authored": _when(checkin.answered_at or checkin.slot_start),
    }
    if items:
        resource["item"] = items
    return resource


def bundle(record: Record, now: datetime) -> dict[str, Any]:
    """The person's Patient, their temperature readings and their check-ins."""
    person_key = str(record.person.id)
    patient_url = _url("Patient", person_key)
    entries: list[dict[str, Any]] = [{"fullUrl": patient_url, "resource": patient(record)}]
    for arrival in record.person.arrivals:
        if arrival.temperature is not None:
            key = f"arrival-{arrival.id}"
            at = arrival.arrived_at or arrival.reported_at
            entries.append(
                {
                    "fullUrl": _url("Observation", key),
                    "resource": temperature(key, patient_url, arrival.temperature, at),
                }
            )
    for checkin in record.checkins:
        if checkin.temperature is not None and checkin.answered_at is not None:
            key = f"checkin-{checkin.id}"
            entries.append(
                {
                    "fullUrl": _url("Observation", key),
                    "resource": temperature(
                        key, patient_url, checkin.temperature, checkin.answered_at
                    ),
                }
            )
    for checkin in record.checkins:
        entries.append(
            {
                "fullUrl": _url("QuestionnaireResponse", str(checkin.id)),
                "resource": response(checkin, patient_url),
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(NAMESPACE, f"bundle/{person_key}/{now.isoformat()}")),
        "type": "collection",
        "timestamp": _when(now),
        "entry": entries,
    }
