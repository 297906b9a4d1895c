"""alerts still without action, per grid: the id as the index's last column, not INCLUDEd

`ix_alerts_grid_open` carried the alert's id as a PostgreSQL INCLUDE column, so that the
roll-up counts open alerts per grid from the index alone. As the index's last key column it
does the same on both databases, and the model no longer names an option of PostgreSQL's:
declaring one makes SQLAlchemy import its PostgreSQL dialect (4 MB of memory) in a bot that
runs on SQLite.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-02 10:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["grid_id", "kind", "created_at", "checkin_slot_end", "checkin_settled_at"]


def upgrade() -> None:
    op.drop_index("ix_alerts_grid_open", table_name="alerts")
    op.create_index("ix_alerts_grid_open", "alerts", [*COLUMNS, "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_grid_open", table_name="alerts")
    op.create_index(
        "ix_alerts_grid_open", "alerts", COLUMNS, unique=False, postgresql_include=["id"]
    )
