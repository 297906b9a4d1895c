"""residents' grid beside their id, in an index

The roll-up and the API count each day's check-ins, arrivals and plans per grid through
their resident: one look-up of the resident per row (34,000 check-ins a day in a city of
200,000). With the grid in an index of the id, PostgreSQL reads it from the index alone
(an index-only scan) instead of a page of the wide residents table per row.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_residents_id_grid_id", "residents", ["id", "grid_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_residents_id_grid_id", table_name="residents")
