"""A resident's own records, as the resident sees and changes them: the people they answer
for, a correction of a saved field (every change kept), and a request for help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from models.alerts import raise_alert
from models.areas import Area
from models.crypto import keyring
from models.help import HelpRequest
from models.people import Arrival, Change, Resident


async def people_of(session: AsyncSession, user_id: int) -> list[Resident]:
    """Everyone the user answers for (not purged), themselves first."""
    query = (
        select(Resident)
        .where(Resident.reporter_user_id == user_id, Resident.purged_at.is_(None))
        .options(selectinload(Resident.arrivals), selectinload(Resident.household))
        # Themselves first; not (user_id == me) DESC: dependants' NULL sorts first on PostgreSQL.
        .order_by(case((Resident.user_id == user_id, 0), else_=1), Resident.id)
    )
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class Field:
    """A saved field a resident can correct: how to read and write it on a person."""

    read: Callable[[Resident], Any]
    write: Callable[[Resident, Any], None]
    # Fields of the journey: a person with no journey has none to correct.
    of_journey: bool = False


def _arrival(person: Resident) -> Arrival:
    return person.arrivals[-1]


def _set(target: Callable[[Resident], Any], attribute: str) -> Callable[[Resident, Any], None]:
    def write(person: Resident, value: Any) -> None:
        setattr(target(person), attribute, value)

    return write


def _own(person: Resident) -> Resident:
    return person


FIELDS: dict[str, Field] = {
    "name": Field(lambda p: p.name, _set(_own, "name")),
    "phone": Field(lambda p: p.phone, _set(_own, "phone")),
    "id_number": Field(lambda p: p.id_number, _set(_own, "id_number")),
    "address": Field(lambda p: p.household.address, _set(lambda p: p.household, "address")),
    "transport_number": Field(
        lambda p: _arrival(p).transport_number, _set(_arrival, "transport_number"), True
    ),
    "seat": Field(lambda p: _arrival(p).seat, _set(_arrival, "seat"), True),
    "health_code": Field(lambda p: _arrival(p).health_code, _set(_arrival, "health_code"), True),
}


# Fields stored encrypted (models/crypto.py), in the change log as well.
SECRET_FIELDS = frozenset({"phone", "id_number"})


@dataclass(frozen=True)
class Corrected:
    """What a correction did: `changed` False when the value was already saved."""

    changed: bool


async def correct(
    session: AsyncSession,
    user_id: int,
    person_id: int,
    field: str,
    value: Any,
    now: datetime,
) -> Corrected | None:
    """Change one field of a person the user answers for, keeping the old value in the
    change log; None when the person (or their journey) is not theirs to change."""
    people = {p.id: p for p in await people_of(session, user_id)}
    person = people.get(person_id)
    known = FIELDS.get(field)
    if person is None or known is None or (known.of_journey and not person.arrivals):
        return None
    old = known.read(person)
    if old == value:
        return Corrected(changed=False)
    known.write(person, value)
    person.updated_at = now
    if field in SECRET_FIELDS:
        # The change log keeps these encrypted too.
        keys, column = keyring(), f"changes.{field}"
        old = keys.encrypt(old, column) if old else old
        value = keys.encrypt(value, column) if value else value
    session.add(
        Change(
            resident_id=person.id,
            field=field,
            old=old,
            new=value,
            changed_by=user_id,
            changed_at=now,
        )
    )
    return Corrected(changed=True)


async def request_help(
    session: AsyncSession, user_id: int, kind: str, text: str, now: datetime
) -> HelpRequest | None:
    """A request for help from the user's household, and an alert for its grid's workers;
    None when the user has not reported."""
    people = await people_of(session, user_id)
    if not people:
        return None
    own = people[0]
    request = HelpRequest(
        resident_id=own.id,
        grid_id=own.grid_id,
        user_id=user_id,
        kind=kind,
        text=text,
        created_at=now,
        status="open",
    )
    session.add(request)
    await session.flush()
    await raise_alert(
        session,
        grid_id=own.grid_id,
        resident_id=own.id,
        kind="help_request",
        now=now,
        details={
            "text": f"{request.kind}: {request.text}",
            "help_kind": request.kind,
            "note": request.text,
            "request": request.id,
        },
        dedupe_key=f"help_request:{request.id}",
    )
    return request


async def reencrypt(session: AsyncSession, after: int, limit: int = 500) -> int | None:
    """Phones and ID numbers of the next `limit` people (by id, after `after`), and their
    change log, encrypted and hashed again with the current key (`returnee admin
    rotate-key`); the last id done, or None when there are none left. Rows are locked while
    they are re-encrypted, so the bot may run meanwhile."""
    people = (
        await session.scalars(
            select(Resident)
            # Each in its grid (which also has the grid's table known to a lone command).
            .join(Area, Area.id == Resident.grid_id)
            .where(
                Resident.id > after,
                or_(Resident.phone_tail_hash.is_not(None), Resident.id_number_hash.is_not(None)),
            )
            .order_by(Resident.id)
            .limit(limit)
            .with_for_update(of=Resident)
        )
    ).all()
    if not people:
        return None
    keys = keyring()
    for person in people:
        # Set again: the hashes follow (models/people.py), and the values are written anew.
        person.phone, person.id_number = person.phone, person.id_number
        flag_modified(person, "phone")
        flag_modified(person, "id_number")
    changes = await session.scalars(
        select(Change).where(
            Change.resident_id.in_([p.id for p in people]), Change.field.in_(SECRET_FIELDS)
        )
    )
    for change in changes:
        column = f"changes.{change.field}"
        if isinstance(change.old, str) and change.old:
            change.old = keys.encrypt(keys.decrypt(change.old, column), column)
        if isinstance(change.new, str) and change.new:
            change.new = keys.encrypt(keys.decrypt(change.new, column), column)
    return people[-1].id
