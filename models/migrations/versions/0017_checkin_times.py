"""own check-in times, confirmed journeys, companions' invitations

Check-in times a user chose (/time), when a journey reported ahead was confirmed, and
companions' personal invitations.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("chat_users") as batch:
        batch.add_column(sa.Column("checkin_times", Json, nullable=True))
    with op.batch_alter_table("arrivals") as batch:
        batch.add_column(sa.Column("confirmed_at", models.base.UTCDateTime(), nullable=True))
    op.create_table(
        "companion_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_companion_invites_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companion_invites")),
        sa.UniqueConstraint("token", name=op.f("uq_companion_invites_token")),
    )
    with op.batch_alter_table("companion_invites") as batch:
        batch.create_index(
            batch.f("ix_companion_invites_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    # Columns dropped in place (SQLite 3.35+): a batch rebuild would trip foreign keys.
    with op.batch_alter_table("companion_invites") as batch:
        batch.drop_index(batch.f("ix_companion_invites_resident_id"))
    op.drop_table("companion_invites")
    op.execute("ALTER TABLE arrivals DROP COLUMN confirmed_at")
    op.execute("ALTER TABLE chat_users DROP COLUMN checkin_times")
