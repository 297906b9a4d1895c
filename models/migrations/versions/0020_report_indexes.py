"""indexes for the daily report's windows

The roll-up and the API's figures count the rows of a window (reports received, arrivals,
releases, check-in slots ended, alerts raised) across a whole city: each is read by its time
instead of every row of the table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_arrivals_reported_at", "arrivals", ["reported_at"]),
    ("ix_arrivals_arrived_at", "arrivals", ["arrived_at"]),
    ("ix_plans_status_ended", "plans", ["status", "ended_at"]),
    ("ix_checkins_slot_end", "checkins", ["slot_end"]),
    ("ix_checkins_resident_slot_end", "checkins", ["resident_id", "slot_end"]),
    ("ix_alerts_kind_created", "alerts", ["kind", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
