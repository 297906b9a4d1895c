"""What the API answers, as published in its OpenAPI document. The figures carry counts
only: no name, phone or ID number is in any of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from models.alerts import Alert
from models.areas import Area
from models.checkins import CheckIn, TestResult
from models.people import Resident
from models.plans import MonitoringPlan
from services.feeds import AreaDay, PersonRow
from services.pushed import Figures as PushedFigures


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class AreaOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None = Field(description="The code of the area above, if any.")

    @classmethod
    def of(cls, area: Area) -> AreaOut:
        parts = area.path.split("/")
        return cls(
            code=area.code,
            name=area.name,
            level=area.level,
            parent=parts[-2] if len(parts) > 1 else None,
        )


class AreaTree(BaseModel):
    area: AreaOut
    below: list[AreaOut]


class Figures(BaseModel):
    """One area's figures for one day: the numbers of the daily report (日报告)."""

    area: str
    area_name: str
    level: str
    day: date
    reports: int = Field(description="Reports (before or on arrival) received that day.")
    arrived: int = Field(description="People who arrived that day.")
    expected: int = Field(description="Expected that day (not yet arrived) or the next 3 days.")
    monitoring: int = Field(description="People under a plan that day.")
    monitoring_by_kind: dict[str, int] = Field(
        description="Of those, under each kind of monitoring (centralised, home_isolation…)."
    )
    held: int = Field(description="Plans past their end held open for missing negative tests.")
    checkins_due: int
    checkins_answered: int
    checkins_missed: int
    abnormal: int = Field(description="Abnormal reports raised that day.")
    abnormal_handled: int = Field(description="Of those, with an action recorded.")
    missed: int = Field(description="Missed check-in alerts raised that day.")
    missed_handled: int
    released: int
    alerts_open: int = Field(description="Alerts open at the day's end (or now, for today).")
    alerts_acknowledged: int = Field(description="Alerts acknowledged during the day.")
    alerts_overdue: int = Field(description="Open alerts older than the escalation time.")
    as_of: datetime = Field(
        description=(
            "When these figures were counted: for today, the last count of a job that runs "
            "every minute (at most two minutes old, else counted for this call); for a day "
            "over, when late answers and actions on its alerts were last taken in (every 5 "
            "minutes)."
        )
    )

    @classmethod
    def of(cls, row: AreaDay) -> Figures:
        c = row.counts
        return cls(
            area=row.area.code,
            area_name=row.area.name,
            level=row.area.level,
            day=row.day,
            reports=c.reports,
            arrived=c.arrived,
            expected=c.expected,
            monitoring=c.monitoring,
            monitoring_by_kind=c.by_kind,
            held=c.held,
            checkins_due=c.checkins_due,
            checkins_answered=c.checkins_answered,
            checkins_missed=c.checkins_missed,
            abnormal=c.abnormal,
            abnormal_handled=c.abnormal_handled,
            missed=c.missed,
            missed_handled=c.missed_handled,
            released=c.released,
            alerts_open=c.alerts.open,
            alerts_acknowledged=c.alerts.acknowledged,
            alerts_overdue=c.alerts.overdue,
            as_of=row.as_of,
        )


class PushedProgress(BaseModel):
    """A list pushed from above (协查名单) in one area on one day, as of that day's report
    (now, for a day not over): how many people were on it there and what had come of them
    (反馈汇总)."""

    day: date | None = Field(
        default=None, description="The day, as of its report time (now for today)."
    )
    list_id: int = Field(description="The list's number.")
    source: str = Field(description="Who pushed it, as given when it was imported.")
    area: str
    area_name: str
    deadline: datetime | None
    pushed: int
    matched: int = Field(description="Found among those who had reported.")
    reported: int = Field(description="Reported themselves after the push.")
    reached: int = Field(description="Reached by phone.")
    visited: int
    not_here: int = Field(description="Not living here.")
    unreachable: int
    open: int = Field(description="Nothing recorded yet.")
    overdue: int = Field(description="Open past the list's deadline.")

    @classmethod
    def of(cls, f: PushedFigures, day: date | None = None) -> PushedProgress:
        return cls(
            day=day,
            list_id=f.list_id,
            source=f.source,
            area=f.area_code,
            area_name=f.area,
            deadline=f.deadline_at,
            **f.counts,
        )


class FiguresOut(BaseModel):
    area: str
    first: date
    last: date
    items: list[Figures] = Field(
        description="Per day: the area in all, then (with below=true) each area directly below."
    )
    pushed_lists: list[PushedProgress] = Field(
        default_factory=list,
        description="Lists pushed from above with a row in the area, day by day as of each "
        "day's report (now for today): in the area in all, then (with below=true) in each "
        "area directly below.",
    )


class PageInfo(BaseModel):
    per_page: int
    next_after: int | None = Field(
        description="Pass as `after` for the next page (items in id order); null on the last."
    )
    as_of: datetime = Field(
        description="When this was read: pass it as changed_since next time to pull only "
        "what changed since."
    )


class PersonOut(BaseModel):
    id: int
    grid: str
    household_id: int
    relation: str
    name: str | None
    phone: str | None
    id_number: str = Field(description="Masked: only the last four characters.")
    arrival_status: str | None = Field(description="expected or arrived")
    expected_at: datetime | None
    arrived_at: datetime | None
    origin: str | None
    transport: str | None
    plan_id: int | None
    plan: str | None
    plan_status: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PersonRow) -> PersonOut:
        p, a, m = row.person, row.arrival, row.plan
        return cls(
            id=p.id,
            grid=row.grid.code,
            household_id=p.household_id,
            relation=p.relation,
            name=p.name,
            phone=p.phone,
            id_number=p.masked_id,
            arrival_status=a.status if a else None,
            expected_at=a.expected_at if a else None,
            arrived_at=a.arrived_at if a else None,
            origin=a.origin_text if a else None,
            transport=a.transport if a else None,
            plan_id=m.id if m else None,
            plan=m.plan_key if m else None,
            plan_status=m.status if m else None,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class Phase(BaseModel):
    kind: str
    first: date
    last: date


class PlanOut(BaseModel):
    id: int
    person_id: int
    grid: str
    plan: str
    policy: str
    reason: str
    status: str
    starts_on: date
    ends_on: date
    phases: list[Phase]
    test_days: list[date]
    negatives_needed: int
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, plan: MonitoringPlan, person: Resident, grid: Area) -> PlanOut:
        return cls(
            id=plan.id,
            person_id=person.id,
            grid=grid.code,
            plan=plan.plan_key,
            policy=plan.policy,
            reason=plan.reason,
            status=plan.status,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            phases=[Phase.model_validate(p) for p in plan.phases],
            test_days=[date.fromisoformat(d) for d in plan.test_days],
            negatives_needed=plan.negatives_needed,
            created_at=plan.created_at,
            ended_at=plan.ended_at,
        )


class CheckInOut(BaseModel):
    id: int
    person_id: int
    plan_id: int
    grid: str
    slot_start: datetime
    slot_end: datetime
    status: str = Field(description="answered, missed or open")
    answered_at: datetime | None
    late: bool
    temperature: float | None
    symptoms: list[str]
    went_out: bool | None

    @classmethod
    def of(cls, checkin: CheckIn, person: Resident, grid: Area) -> CheckInOut:
        return cls(
            id=checkin.id,
            person_id=person.id,
            plan_id=checkin.plan_id,
            grid=grid.code,
            slot_start=checkin.slot_start,
            slot_end=checkin.slot_end,
            status=checkin_status(checkin),
            answered_at=checkin.answered_at,
            late=checkin.late,
            temperature=checkin.temperature,
            symptoms=list(checkin.symptoms or []),
            went_out=checkin.went_out,
        )


def checkin_status(checkin: CheckIn) -> str:
    if checkin.answered_at is not None:
        return "answered"
    return "missed" if checkin.missed_at is not None else "open"


class AlertOut(BaseModel):
    id: int
    person_id: int | None
    grid: str
    kind: str
    status: str
    level: str = Field(description="The level it is addressed to now: grid, community…")
    created_at: datetime
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, alert: Alert, person: Resident, grid: Area) -> AlertOut:
        return cls(
            id=alert.id,
            person_id=person.id,
            grid=grid.code,
            kind=alert.kind,
            status=alert.status,
            level=alert.level,
            created_at=alert.created_at,
            acknowledged_at=alert.acknowledged_at,
        )


class TestResultOut(BaseModel):
    id: int
    person_id: int
    plan_id: int
    grid: str
    day: date
    result: str = Field(description="negative, positive or pending")
    reported_at: datetime

    @classmethod
    def of(cls, test: TestResult, person: Resident, grid: Area) -> TestResultOut:
        return cls(
            id=test.id,
            person_id=person.id,
            plan_id=test.plan_id,
            grid=grid.code,
            day=test.day,
            result=test.result,
            reported_at=test.reported_at,
        )


class PeoplePage(PageInfo):
    items: list[PersonOut]


class PlansPage(PageInfo):
    items: list[PlanOut]


class CheckInsPage(PageInfo):
    items: list[CheckInOut]


class AlertsPage(PageInfo):
    items: list[AlertOut]


class TestResultsPage(PageInfo):
    items: list[TestResultOut]


FhirBundle = dict[str, Any]
