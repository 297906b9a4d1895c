"""Lists pushed from above (推送信息, 协查名单): people the community must find, act on and
report back about (落实反馈). One `PushedList` per file taken in (its hash makes the same
file taken twice change nothing); one `PushedRow` per person on it, with the columns as they
came (unknown ones kept, the whole row encrypted), the person matched against the residents
(or the door-to-door task that finds them), and what was done.

A row's task is an alert (kind "pushed_task", services/pushed.py): delivered, re-sent and
escalated by the alerts' machinery; its outcome is the row's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from models.base import Base, Json
from models.crypto import Encrypted, EncryptedJson
from models.people import id_number_hash, phone_tail_hash

# How a row was matched to a resident: by ID number, by phone, or only by name in the area
# (a "possible" match a worker confirms).
MATCH_ID, MATCH_PHONE, MATCH_POSSIBLE = "id", "phone", "possible"
# What came of a row: found among those who had reported (matched), reported after the push
# (through the personal link, or on their own), or the worker's outcome at the door.
MATCHED, REPORTED = "matched", "reported"
OUTCOMES = ("reached", "visited", "not_here", "unreachable")


class PushedList(Base):
    __tablename__ = "pushed_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    # SHA-256 of the file's bytes: the same list taken in twice changes nothing.
    file_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The area it was pushed to (whose workers see its figures); its rows go further down.
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    deadline_at: Mapped[datetime]
    # The Telegram user who sent it to the bot; None: the command line.
    imported_by: Mapped[int | None] = mapped_column(BigInteger)
    imported_at: Mapped[datetime]
    rows_good: Mapped[int] = mapped_column(Integer, default=0)
    # The rows kept aside: [{"line": 7, "problem": "..."}] (no personal numbers).
    bad_rows: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    closed_at: Mapped[datetime | None]


class PushedRow(Base):
    __tablename__ = "pushed_rows"
    __table_args__ = (
        Index("ix_pushed_rows_list_area", "list_id", "area_id"),
        Index("ix_pushed_rows_match_rescreened", "match", "rescreened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("pushed_lists.id"), index=True)
    # The line of the file it came from (the header is line 1).
    line: Mapped[int] = mapped_column(Integer)
    # Every column as it came, unknown ones included (encrypted: it holds the numbers).
    raw: Mapped[dict[str, Any]] = mapped_column(EncryptedJson("pushed_rows.raw"))
    name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str | None] = mapped_column(Encrypted("pushed_rows.id_number"))
    phone: Mapped[str | None] = mapped_column(Encrypted("pushed_rows.phone"))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_tail_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The reason's code (rules/pushed.py REASONS), and the words as they came.
    reason: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str] = mapped_column(String(100), default="")
    place_text: Mapped[str] = mapped_column(String(100), default="")
    place_code: Mapped[str | None] = mapped_column(String(16))
    place_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200), default="")
    # The area found from the address (a grid, or the district's queue), or the matched
    # resident's grid.
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    match: Mapped[str | None] = mapped_column(String(16))
    # When a resident found on the list was checked again (None: not yet, or not found).
    rescreened_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None]
    outcome_by: Mapped[int | None] = mapped_column(BigInteger)
    outcome_by_name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str | None] = mapped_column(Text)
    # Not living here: where to, if known.
    moved_to: Mapped[str | None] = mapped_column(String(200))
    # Released from centralised quarantine elsewhere, expected here (入境解除集中隔离): the
    # closed-loop transfer the worker records (点对点接送: when, by whom, vehicle).
    expected_arrival: Mapped[datetime | None]
    transfer_at: Mapped[datetime | None]
    transfer_by: Mapped[str | None] = mapped_column(String(64))
    transfer_vehicle: Mapped[str | None] = mapped_column(String(32))
    # The door-to-door task (an alert), for a row not matched.
    task_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    created_at: Mapped[datetime]

    @validates("phone")
    def _phone_hash(self, _key: str, value: str | None) -> str | None:
        self.phone_tail_hash = phone_tail_hash(value)
        return value

    @validates("id_number")
    def _id_number_hash(self, _key: str, value: str | None) -> str | None:
        self.id_number_hash = id_number_hash(value)
        return value


class PushedInvite(Base):
    """A personal link a worker gives a person on a list (`/start TOKEN`): single use,
    expiring; the report filed after it links to the row and closes its task."""

    __tablename__ = "pushed_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("pushed_rows.id"), index=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
