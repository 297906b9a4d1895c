"""papers: plan notices and release certificates with verification codes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_papers_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_papers_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
        sa.UniqueConstraint("code", name=op.f("uq_papers_code")),
        sa.UniqueConstraint("plan_id", "kind", name="uq_papers_plan_kind"),
    )
    with op.batch_alter_table("papers") as batch:
        batch.create_index(batch.f("ix_papers_plan_id"), ["plan_id"], unique=False)
        batch.create_index(batch.f("ix_papers_resident_id"), ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_table("papers")
