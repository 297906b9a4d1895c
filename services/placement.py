"""Placing a household in a grid: the resident names the community and the address; the
grid follows from the rules the community keeps (a grid's buildings and compounds, imported
with the areas), or — where the rules do not decide — from one of the community's workers,
who gets an alert with a button per grid. Residents never guess their own grid."""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import Translator
from models.alerts import OPEN, Alert, raise_alert
from models.areas import Area, Level, children_of
from models.chat import ChatUser
from models.checkins import CheckIn
from models.outbox import enqueue
from models.people import Arrival, Household, Resident
from models.plans import MonitoringPlan
from models.staff import staff_for_grid
from rules.addresses import grid_of

ASSIGN_KIND = "assign_grid"


async def grid_for(session: AsyncSession, area: Area, address: str | None) -> Area:
    """The grid a household at `address` in `area` belongs to; the area itself (a
    community) when its rules do not decide."""
    if area.level == Level.GRID:
        return area
    grids = [a for a in await children_of(session, area.id) if a.level == Level.GRID]
    chosen = grid_of(address or "", {g.code: g.buildings for g in grids}) if grids else None
    return next((g for g in grids if g.code == chosen), area)


async def ask_for_a_grid(
    session: AsyncSession, household: Household, reporter: Resident, now: datetime
) -> None:
    """The community's workers are asked to place a household their rules did not place."""
    await raise_alert(
        session,
        grid_id=household.grid_id,
        resident_id=reporter.id,
        kind=ASSIGN_KIND,
        now=now,
        details={"household": household.id},
        dedupe_key=f"{ASSIGN_KIND}:{household.id}",
    )


# The rows that keep their resident's grid (for the roll-up's counts per grid).
KEEP_THE_GRID = (Arrival, MonitoringPlan, CheckIn)


async def move_rows(session: AsyncSession, resident_ids: list[int], grid_id: int) -> None:
    """The residents' rows that keep their grid follow them to `grid_id`: the figures of
    every day, past ones too, count a person in the grid they are in now (as before the
    grid was kept on the rows, when it was read from the resident)."""
    if not resident_ids:
        return
    for model in KEEP_THE_GRID:
        await session.execute(
            update(model).where(model.resident_id.in_(resident_ids)).values(grid_id=grid_id)
        )


async def grids_to_choose(session: AsyncSession, alert: Alert) -> list[Area]:
    """The grids an assign-grid alert offers: those of the household's community."""
    area = await session.get(Area, alert.grid_id)
    if area is None or area.level == Level.GRID:
        return []
    return [a for a in await children_of(session, area.id) if a.level == Level.GRID]


async def assign(
    session: AsyncSession, household: Household, grid: Area, now: datetime
) -> list[Resident]:
    """Move the household and its people into `grid` (a grid under their community); their
    open alerts follow, to reach the grid's own workers. The household's reporter is told
    their grid and its workers. Returns the people moved."""
    community = await session.get(Area, household.grid_id)
    if community is None or grid.level != Level.GRID or grid.parent_id != community.id:
        return []
    people = list(
        await session.scalars(select(Resident).where(Resident.household_id == household.id))
    )
    household.grid_id = grid.id
    for person in people:
        person.grid_id = grid.id
    ids = [p.id for p in people]
    await move_rows(session, ids, grid.id)
    if ids:
        await session.execute(
            update(Alert)
            .where(
                Alert.resident_id.in_(ids),
                Alert.status == OPEN,
                Alert.kind != ASSIGN_KIND,
            )
            .values(grid_id=grid.id, notified_at=None, resent_at=None, level="grid")
        )
    reporter = await session.get(ChatUser, household.reporter_user_id)
    if reporter is not None:
        tr = Translator(reporter.language)
        workers = [w.name for w in await staff_for_grid(session, grid, "grid") if w.name]
        text = tr("Your grid: {grid}.", grid=html.escape(grid.name))
        if workers:
            text += "\n" + tr(
                "Your grid worker: {names}. They will contact you.",
                names=html.escape(tr.join(workers)),
            )
        await enqueue(
            session,
            chat_id=reporter.chat_id,
            text=text,
            purpose="grid_assigned",
            dedupe_key=f"grid-assigned:{household.id}:{grid.id}",
            now=now,
        )
    return people
