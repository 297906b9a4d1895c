"""check-ins, plans and arrivals keep their resident's grid; indexes the roll-up counts from

The roll-up (a district's or the city's report, and the API's figures) counted each day's
check-ins, arrivals and plans per grid through a look-up of each row's resident (34,000
check-ins a day in a city of 200,000). The grid is now kept on the rows themselves (set
where they are written, moved with the resident: `services.placement`), and filled in here
from the residents.

Indexes the roll-up counts from alone (on SQLite; PostgreSQL reads them so once the pages
are all-visible): the window's check-ins (`ix_checkins_slot_end`: grid, answer, lateness and
the closed mark), the people expected (`ix_arrivals_status_expected`), the active plans in
grid order (`ix_plans_status_grid`) and the alerts still open in grid order
(`ix_alerts_grid_open`): read in the grid's order, SQLite groups them per grid without
sorting them first.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 01:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("checkins", "plans", "arrivals")
# Indexes widened: (name, table, columns before, columns now).
INDEXES = (
    (
        "ix_checkins_slot_end",
        "checkins",
        ["slot_end"],
        ["slot_end", "grid_id", "answered_at", "late", "extra"],
    ),
    (
        "ix_arrivals_status_expected",
        "arrivals",
        ["status", "expected_at"],
        ["status", "expected_at", "grid_id", "resident_id"],
    ),
)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("grid_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET grid_id = "
            f"(SELECT residents.grid_id FROM residents WHERE residents.id = {table}.resident_id)"
        )
    for name, table, _old, new in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, new, unique=False)
    op.create_index(
        "ix_alerts_grid_open",
        "alerts",
        ["grid_id", "kind", "created_at", "checkin_slot_end", "checkin_settled_at"],
        unique=False,
        postgresql_include=["id"],
    )
    op.create_index(
        "ix_plans_status_grid",
        "plans",
        ["status", "grid_id", "starts_on", "ends_on", "phases"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_plans_status_grid", table_name="plans")
    op.drop_index("ix_alerts_grid_open", table_name="alerts")
    for name, table, old, _new in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old, unique=False)
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("grid_id")
