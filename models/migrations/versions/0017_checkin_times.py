"""check-in times a user chose (/time), and when a journey reported ahead was confirmed

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("chat_users") as batch:
        batch.add_column(sa.Column("checkin_times", Json, nullable=True))
    with op.batch_alter_table("arrivals") as batch:
        batch.add_column(sa.Column("confirmed_at", models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("arrivals") as batch:
        batch.drop_column("confirmed_at")
    with op.batch_alter_table("chat_users") as batch:
        batch.drop_column("checkin_times")
