"""api tokens and the dashboard's sign-in links

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_api_tokens_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.create_index(batch.f("ix_api_tokens_area_id"), ["area_id"], unique=False)
    op.create_table(
        "web_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("link_expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("session_expires_at", models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_logins")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_web_logins_link_hash")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_web_logins_session_hash")),
    )
    with op.batch_alter_table("web_logins") as batch:
        batch.create_index(batch.f("ix_web_logins_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("web_logins")
    op.drop_table("api_tokens")
