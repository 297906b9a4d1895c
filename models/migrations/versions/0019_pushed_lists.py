"""lists pushed from above: the lists, their rows, the personal links

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base
import models.crypto

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pushed_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("deadline_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("rows_good", sa.Integer(), nullable=False),
        sa.Column("bad_rows", _json(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_pushed_lists_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_lists")),
        sa.UniqueConstraint("file_hash", name=op.f("uq_pushed_lists_file_hash")),
    )
    op.create_index(op.f("ix_pushed_lists_area_id"), "pushed_lists", ["area_id"])
    op.create_table(
        "pushed_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("raw", models.crypto.EncryptedJson("pushed_rows.raw"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("id_number", models.crypto.Encrypted("pushed_rows.id_number"), nullable=True),
        sa.Column("phone", models.crypto.Encrypted("pushed_rows.phone"), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_tail_hash", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.String(length=100), nullable=False),
        sa.Column("place_text", sa.String(length=100), nullable=False),
        sa.Column("place_code", sa.String(length=16), nullable=True),
        sa.Column("place_date", sa.Date(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("match", sa.String(length=16), nullable=True),
        sa.Column("rescreened_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("outcome_by", sa.BigInteger(), nullable=True),
        sa.Column("outcome_by_name", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("moved_to", sa.String(length=200), nullable=True),
        sa.Column("expected_arrival", models.base.UTCDateTime(), nullable=True),
        sa.Column("transfer_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("transfer_by", sa.String(length=64), nullable=True),
        sa.Column("transfer_vehicle", sa.String(length=32), nullable=True),
        sa.Column("task_alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["pushed_lists.id"], name=op.f("fk_pushed_rows_list_id_pushed_lists")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_pushed_rows_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_pushed_rows_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["task_alert_id"], ["alerts.id"], name=op.f("fk_pushed_rows_task_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_rows")),
    )
    for column in (
        "list_id",
        "area_id",
        "resident_id",
        "task_alert_id",
        "id_number_hash",
        "phone_tail_hash",
    ):
        op.create_index(op.f(f"ix_pushed_rows_{column}"), "pushed_rows", [column])
    op.create_index("ix_pushed_rows_list_area", "pushed_rows", ["list_id", "area_id"])
    op.create_index("ix_pushed_rows_match_rescreened", "pushed_rows", ["match", "rescreened_at"])
    op.create_table(
        "pushed_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["row_id"], ["pushed_rows.id"], name=op.f("fk_pushed_invites_row_id_pushed_rows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_invites")),
        sa.UniqueConstraint("token", name=op.f("uq_pushed_invites_token")),
    )
    op.create_index(op.f("ix_pushed_invites_row_id"), "pushed_invites", ["row_id"])


def downgrade() -> None:
    op.drop_table("pushed_invites")
    op.drop_table("pushed_rows")
    op.drop_table("pushed_lists")
