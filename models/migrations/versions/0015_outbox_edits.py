"""outbox edits of a message sent before, worker-resident messages, an area's phone

Outbox rows that edit a message sent before (an alert handled by another worker); messages
between workers and a resident; an area's public phone number.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("edit_message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("help_request_id", sa.Integer(), nullable=True),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["areas.id"], name=op.f("fk_contact_messages_grid_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["help_request_id"],
            ["help_requests.id"],
            name=op.f("fk_contact_messages_help_request_id_help_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["reply_to"],
            ["contact_messages.id"],
            name=op.f("fk_contact_messages_reply_to_contact_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_contact_messages_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_messages")),
    )
    op.create_index(
        op.f("ix_contact_messages_resident_id"), "contact_messages", ["resident_id"], unique=False
    )


def downgrade() -> None:
    # Columns dropped in place (SQLite 3.35+): a batch rebuild would trip foreign keys.
    op.drop_index(op.f("ix_contact_messages_resident_id"), table_name="contact_messages")
    op.drop_table("contact_messages")
    op.execute("ALTER TABLE areas DROP COLUMN phone")
    op.execute("ALTER TABLE outbox DROP COLUMN edit_message_id")
