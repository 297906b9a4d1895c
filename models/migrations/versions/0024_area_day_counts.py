"""the stored figures per area and day (each area above a grid its grids' sum), not per grid

`area_day_counts` replaces `grid_day_counts`: a range over the city's districts reads one row
per district and day instead of summing a thousand grids' rows per day. The stored figures
are derived (the job `store_figures` counts them again from the tables), so they are not
carried over: the days are forgotten and counted again by the job, a fortnight a run.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.execute("DELETE FROM counted_days")
    op.drop_table("grid_day_counts")
    op.create_table(
        "area_day_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("counts", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_area_day_counts_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("day", "area_id", name=op.f("pk_area_day_counts")),
    )


def downgrade() -> None:
    op.execute("DELETE FROM counted_days")
    op.drop_table("area_day_counts")
    op.create_table(
        "grid_day_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("counts", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["areas.id"], name=op.f("fk_grid_day_counts_grid_id_areas")
        ),
        sa.PrimaryKeyConstraint("day", "grid_id", name=op.f("pk_grid_day_counts")),
    )
