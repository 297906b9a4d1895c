"""The read API: FastAPI, so its OpenAPI document (/api/openapi.json) is made from the code.

Every call names a token (`Authorization: Bearer …`, made by `returnee admin api-token
create`): a `figures` token reads the figures of its area and the areas below it; a `people`
token the people, plans, check-ins, alerts and test results too. An area outside the token's
is answered 404, as if it did not exist. Each call is written to the audit log (which token,
what, how many rows), and each token may make `rate_per_minute` calls a minute."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import dashboard, fhir
from api.schemas import (
    AlertOut,
    AlertsPage,
    AreaOut,
    AreaTree,
    CheckInOut,
    CheckInsPage,
    ErrorResponse,
    FhirBundle,
    Figures,
    FiguresOut,
    PeoplePage,
    PersonOut,
    PlanOut,
    PlansPage,
    PushedProgress,
    TestResultOut,
    TestResultsPage,
)
from chat.clock import Clock, SystemClock
from models.access import PEOPLE, ApiToken
from models.areas import Area, area_by_code, children_of
from models.staff import audit, covers
from services import feeds
from services.access import authenticate
from services.figures import DEFAULT_AT, window_of
from services.pushed import progress_over as pushed_progress_over
from services.records import Scope, record_of

API = "/api/v1"
ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid",
    429: "too_many_requests",
}


@dataclass
class ApiConfig:
    """What the API needs of the settings."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # An open alert older than this is overdue (the escalation time).
    overdue_after: timedelta = timedelta(hours=6)
    # DAILY_REPORT_AT: a day's figures are the daily report's, over the 24 hours to it.
    report_at: clock_time = DEFAULT_AT
    rate_per_minute: int = 120
    clock: Clock = field(default_factory=SystemClock)
    # The address people reach the dashboard at (for the links /web sends).
    public_url: str = ""


class RateLimiter:
    """A token bucket per API token: `per_minute` calls, refilled evenly (in this process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[int, tuple[float, float]] = {}

    def allow(self, key: int) -> float:
        """0 if the call may go ahead, else the seconds to wait."""
        now = time.monotonic()
        rate = self.per_minute / 60
        level, last = self._buckets.get(key, (float(self.per_minute), now))
        level = min(float(self.per_minute), level + (now - last) * rate)
        if level < 1:
            self._buckets[key] = (level, now)
            return (1 - level) / rate
        self._buckets[key] = (level - 1, now)
        return 0.0


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail=message, headers=headers)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": ERRORS.get(status, "error"), "message": message}}


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    area: Area
    session: AsyncSession

    @property
    def scope(self) -> Scope:
        return Scope(user_id=0, areas=(self.area,))


def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


def get_config(request: Request) -> ApiConfig:
    config: ApiConfig = request.app.state.config
    return config


async def caller(request: Request) -> AsyncIterator[Caller]:
    """The calling token, with a session for the call; 401 without an active one, 429 past
    its rate. The call is written to the audit log when it ends, however it ends."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise problem(401, "Send a token: Authorization: Bearer <token>.")
    config = get_config(request)
    async with get_sessions(request)() as session:
        async with session.begin():
            found = await authenticate(session, secret.strip(), config.clock.now())
        if found is None:
            raise problem(401, "The token is not known, has expired or was revoked.")
        token, area = found
        subject = f"api-token:{token.id}"
        status = 500
        try:
            wait = request.app.state.limiter.allow(token.id)
            if wait:
                raise problem(
                    429,
                    f"Too many calls for this token; try again in {wait:.0f} s.",
                    {"Retry-After": str(max(1, round(wait)))},
                )
            yield Caller(token, area, session)
            status = 200
        except HTTPException as exc:
            status = exc.status_code
            raise
        except RequestValidationError:
            status = 422
            raise
        finally:
            await session.rollback()
            async with session.begin():
                await audit(
                    session,
                    0,
                    "api_call",
                    subject,
                    config.clock.now(),
                    path=request.url.path,
                    query=str(request.url.query)[:300],
                    status=status,
                    rows=getattr(request.state, "rows", 0),
                )


Calling = Annotated[Caller, Depends(caller)]


def needs_people(who: Caller) -> None:
    if who.token.scope != PEOPLE:
        raise problem(403, "This token reads figures only; people need a token of scope people.")


async def area_of(who: Caller, code: str) -> Area:
    """The area named, only if it lies at or under the token's (else 404)."""
    area = await area_by_code(who.session, code)
    if area is None or not covers(who.area, area):
        raise problem(404, f"No area {code} here.")
    return area


def rows(request: Request, n: int) -> None:
    request.state.rows = n


def today(config: ApiConfig) -> date:
    return config.clock.now().astimezone(config.zone).date()


router = APIRouter(
    prefix=API,
    responses={
        401: {"model": ErrorResponse, "description": "No token, or not an active one."},
        404: {"model": ErrorResponse, "description": "No such area or person in the token's."},
        422: {"model": ErrorResponse, "description": "A parameter is not valid."},
        429: {"model": ErrorResponse, "description": "Past the token's rate; see Retry-After."},
    },
)
PEOPLE_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorResponse, "description": "A figures token asked for people."}
}


@router.get("/areas/{code}", response_model=AreaTree, summary="An area and the areas below it")
async def area_tree(code: str, who: Calling, request: Request) -> AreaTree:
    area = await area_of(who, code)
    below = await children_of(who.session, area.id)
    rows(request, 1 + len(below))
    return AreaTree(area=AreaOut.of(area), below=[AreaOut.of(a) for a in below])


@router.get(
    "/areas/{code}/figures",
    response_model=FiguresOut,
    summary="The daily report's figures per day, for an area (and each area below it)",
)
async def figures(
    code: str,
    who: Calling,
    request: Request,
    first: Annotated[
        date | None, Query(alias="from", description="First day (default: today)")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="Last day (default: first)")] = None,
    below: Annotated[bool, Query(description="Also each area directly below")] = False,
) -> FiguresOut:
    config = get_config(request)
    area = await area_of(who, code)
    first = first or today(config)
    last = last or first
    if last < first:
        raise problem(422, "to is before from.")
    if (last - first).days + 1 > feeds.MAX_DAYS:
        raise problem(422, f"At most {feeds.MAX_DAYS} days at a time.")
    found = await feeds.figures_over(
        who.session,
        area,
        first,
        last,
        below=below,
        zone=config.zone,
        overdue_after=config.overdue_after,
        now=config.clock.now(),
        at=config.report_at,
    )
    now = config.clock.now()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    moments = [min(window_of(day, config.zone, config.report_at)[1], now) for day in days]
    lists = await pushed_progress_over(who.session, area, moments, below=below)
    shown = [PushedProgress.of(f, day) for day, each in zip(days, lists, strict=True) for f in each]
    rows(request, len(found) + len(shown))
    return FiguresOut(
        area=area.code,
        first=first,
        last=last,
        items=[Figures.of(r) for r in found],
        pushed_lists=shown,
    )


def list_filters(
    plan: Annotated[str | None, Query(description="A plan's key, as in a plan's `plan`")] = None,
    status: Annotated[str | None, Query(description="The list's status (see each list)")] = None,
    since: Annotated[date | None, Query(description="From this day (the list's own date)")] = None,
    until: Annotated[date | None, Query(description="To this day, included")] = None,
    changed_since: Annotated[
        datetime | None, Query(description="Only what changed since (a page's as_of)")
    ] = None,
) -> feeds.Filters:
    if changed_since is not None and changed_since.tzinfo is None:
        raise problem(422, "changed_since needs a time zone (…Z or …+08:00).")
    return feeds.Filters(plan, status, since, until, changed_since)


Filtering = Annotated[feeds.Filters, Depends(list_filters)]
After = Annotated[
    int,
    Query(
        ge=0, description="Where the page starts: the next_after of the page before (0: the start)"
    ),
]
PerPage = Annotated[int, Query(ge=1, le=feeds.MAX_PER_PAGE)]


def check_status(filters: feeds.Filters, allowed: tuple[str, ...]) -> None:
    if filters.status is not None and filters.status not in allowed:
        raise problem(422, f"status is one of {', '.join(allowed)}.")


def paging(found: feeds.Page[Any], config: ApiConfig) -> dict[str, Any]:
    return {"per_page": found.per_page, "next_after": found.next_after, "as_of": config.clock.now()}


async def page_of(
    who: Caller,
    request: Request,
    code: str,
    filters: feeds.Filters,
    statuses: tuple[str, ...],
    fetch: Callable[..., Awaitable[feeds.Page[Any]]],
    after: int,
    per_page: int,
) -> tuple[list[Any], dict[str, Any]]:
    """One page of an area's records and its paging: the token reads people, the status is one
    the list knows, the area lies at or under the token's; the rows are counted for the audit."""
    needs_people(who)
    check_status(filters, statuses)
    config = get_config(request)
    scope = Scope(0, (await area_of(who, code),))
    found = await fetch(who.session, scope, filters, after, per_page, config.zone)
    rows(request, len(found.items))
    return list(found.items), paging(found, config)


@router.get(
    "/areas/{code}/people",
    response_model=PeoplePage,
    responses=PEOPLE_ONLY,
    summary="People of the area (status: expected or arrived; dates: arrival)",
)
async def people(
    code: str,
    who: Calling,
    request: Request,
    filters: Filtering,
    after: After = 0,
    per_page: PerPage = 100,
) -> PeoplePage:
    items, page = await page_of(
        who, request, code, filters, feeds.PERSON_STATUSES, feeds.people_page, after, per_page
    )
    return PeoplePage(items=[PersonOut.of(r) for r in items], **page)


@router.get(
    "/areas/{code}/plans",
    response_model=PlansPage,
    responses=PEOPLE_ONLY,
    summary="Monitoring plans (status: active, held, released, superseded; dates: start)",
)
async def plans(
    code: str,
    who: Calling,
    request: Request,
    filters: Filtering,
    after: After = 0,
    per_page: PerPage = 100,
) -> PlansPage:
    items, page = await page_of(
        who, request, code, filters, feeds.PLAN_STATUSES, feeds.plans_page, after, per_page
    )
    return PlansPage(items=[PlanOut.of(*r) for r in items], **page)


@router.get(
    "/areas/{code}/checkins",
    response_model=CheckInsPage,
    responses=PEOPLE_ONLY,
    summary="Check-ins (status: answered, missed, open; dates: the slot)",
)
async def checkins(
    code: str,
    who: Calling,
    request: Request,
    filters: Filtering,
    after: After = 0,
    per_page: PerPage = 100,
) -> CheckInsPage:
    items, page = await page_of(
        who, request, code, filters, feeds.CHECKIN_STATUSES, feeds.checkins_page, after, per_page
    )
    return CheckInsPage(items=[CheckInOut.of(*r) for r in items], **page)


@router.get(
    "/areas/{code}/alerts",
    response_model=AlertsPage,
    responses=PEOPLE_ONLY,
    summary="Alerts about people (status: open, acknowledged; dates: raised)",
)
async def alerts(
    code: str,
    who: Calling,
    request: Request,
    filters: Filtering,
    after: After = 0,
    per_page: PerPage = 100,
) -> AlertsPage:
    items, page = await page_of(
        who, request, code, filters, feeds.ALERT_STATUSES, feeds.alerts_page, after, per_page
    )
    return AlertsPage(items=[AlertOut.of(*r) for r in items], **page)


@router.get(
    "/areas/{code}/test-results",
    response_model=TestResultsPage,
    responses=PEOPLE_ONLY,
    summary="Nucleic-acid test results (status: negative, positive, pending; dates: test day)",
)
async def test_results(
    code: str,
    who: Calling,
    request: Request,
    filters: Filtering,
    after: After = 0,
    per_page: PerPage = 100,
) -> TestResultsPage:
    items, page = await page_of(
        who, request, code, filters, feeds.TEST_STATUSES, feeds.tests_page, after, per_page
    )
    return TestResultsPage(items=[TestResultOut.of(*r) for r in items], **page)


@router.get(
    "/people/{person_id}/fhir",
    responses=PEOPLE_ONLY,
    summary="One person's monitoring as a FHIR R4 Bundle (Patient, Observations, "
    "QuestionnaireResponses)",
)
async def person_fhir(person_id: int, who: Calling, request: Request) -> FhirBundle:
    needs_people(who)
    record = await record_of(who.session, who.scope, person_id)
    if record is None:
        raise problem(404, f"No person {person_id} here.")
    bundle = fhir.bundle(record, get_config(request).clock.now())
    rows(request, len(bundle["entry"]))
    return bundle


def create_app(
    sessions: async_sessionmaker[AsyncSession], config: ApiConfig | None = None
) -> FastAPI:
    config = config or ApiConfig()
    app = FastAPI(
        title="returnee",
        version="1",
        description=(
            "Read-only: the daily report's figures per area and day, and the people, plans, "
            "check-ins, alerts and test results of an area, for a city's platform. Call with "
            "`Authorization: Bearer <token>` (`returnee admin api-token create`)."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.sessions = sessions
    app.state.config = config
    app.state.limiter = RateLimiter(config.rate_per_minute)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return JSONResponse(error_body(422, "; ".join(parts)), status_code=422)

    app.include_router(router)
    app.include_router(dashboard.router)
    return app
