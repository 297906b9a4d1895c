"""Imports every model module, so the metadata (and Alembic) sees every table."""

from models import (
    access,
    alerts,
    areas,
    chat,
    checkins,
    contact,
    counts,
    help,
    invites,
    outbox,
    papers,
    people,
    plans,
    pushed,
    risk,
    staff,
)

__all__ = [
    "access",
    "alerts",
    "areas",
    "chat",
    "checkins",
    "contact",
    "counts",
    "help",
    "invites",
    "outbox",
    "papers",
    "people",
    "plans",
    "pushed",
    "risk",
    "staff",
]
