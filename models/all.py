"""Imports every model module, so the metadata (and Alembic) sees every table."""

from models import (
    alerts,
    areas,
    chat,
    checkins,
    help,
    invites,
    outbox,
    papers,
    people,
    plans,
    risk,
    staff,
)

__all__ = [
    "alerts",
    "areas",
    "chat",
    "checkins",
    "help",
    "invites",
    "outbox",
    "papers",
    "people",
    "plans",
    "risk",
    "staff",
]
