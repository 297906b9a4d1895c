"""the daily report's figures stored per grid and day; a missed check-in's alert knows its slot

`grid_day_counts` and `counted_days` hold the figures of days that are over (the API's range
sums them instead of counting every check-in). `alerts.checkin_slot_end` and
`alerts.checkin_settled_at` (answered late or closed) let the report count the missed
check-ins' alerts still open without looking each check-in up; existing rows are filled.

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# The check-in a missed check-in's alert is about: its dedupe key is "missed_checkin:<id>".
ABOUT = "checkins.id = CAST(substr(alerts.dedupe_key, 16) AS INTEGER)"


def upgrade() -> None:
    op.add_column("alerts", sa.Column("checkin_slot_end", models.base.UTCDateTime(), nullable=True))
    op.add_column(
        "alerts", sa.Column("checkin_settled_at", models.base.UTCDateTime(), nullable=True)
    )
    op.create_index(op.f("ix_alerts_checkin_settled_at"), "alerts", ["checkin_settled_at"])
    op.create_index(op.f("ix_alert_actions_at"), "alert_actions", ["at"])
    closed = (
        "checkins.extra ->> 'closed'"
        if op.get_bind().dialect.name == "postgresql"
        else "json_extract(checkins.extra, '$.closed')"
    )
    op.execute(
        "UPDATE alerts SET "
        f"checkin_slot_end = (SELECT checkins.slot_end FROM checkins WHERE {ABOUT}), "
        "checkin_settled_at = (SELECT CASE WHEN checkins.answered_at IS NOT NULL "
        f"THEN checkins.answered_at WHEN {closed} IS NOT NULL THEN checkins.slot_end END "
        f"FROM checkins WHERE {ABOUT}) "
        "WHERE alerts.kind = 'missed_checkin' AND alerts.dedupe_key LIKE 'missed_checkin:%'"
    )
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
    op.create_table(
        "counted_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("report_at", sa.String(length=8), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("overdue_seconds", sa.Integer(), nullable=False),
        sa.Column("counted_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("checked_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_counted_days")),
    )


def downgrade() -> None:
    op.drop_table("counted_days")
    op.drop_table("grid_day_counts")
    op.drop_index(op.f("ix_alert_actions_at"), table_name="alert_actions")
    op.drop_index(op.f("ix_alerts_checkin_settled_at"), table_name="alerts")
    op.drop_column("alerts", "checkin_settled_at")
    op.drop_column("alerts", "checkin_slot_end")
