"""The read API as a city platform calls it: the figures equal the daily report's, a figures
token never sees a personal field, a token sees only its area, revoked and unknown tokens are
refused, errors come as JSON, pages and `changed_since` pull what changed, every call is
audited, and the OpenAPI document is valid."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import ApiConfig
from chat.clock import FixedClock
from models.areas import area_by_code
from models.people import Resident
from models.staff import AuditEntry
from services.access import revoke_token
from services.counts import Counts, rollup_figures
from services.figures import daily_figures
from services.stored import FRESH, store_today
from tests.api.conftest import DISTRICT_A, DISTRICT_B, Issue, bearer
from tests.handlers.test_staff import GRID_2
from tests.services.test_alerts import COMMUNITY, ZONE
from tests.services.test_checkins import at
from tests.services.test_digest import DAY
from tests.services.test_stored import answer_the_missed_checkin

pytestmark = pytest.mark.usefixtures("seeded")
NAMES = ("Wang Fang", "Zhao Lei", "Chen Jie", "Sun Li")
PEOPLE_LISTS = ("people", "plans", "checkins", "alerts", "test-results")


async def test_the_figures_are_the_daily_reports(
    client: httpx.AsyncClient, issue: Issue, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue(DISTRICT_A, "figures")
    answer = await client.get(
        f"/api/v1/areas/{COMMUNITY}/figures",
        params={"from": "2026-06-30", "to": DAY.isoformat(), "below": "true"},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    async with sessions() as session:
        community = await area_by_code(session, COMMUNITY)
        grid = await area_by_code(session, GRID_2)
        assert community is not None and grid is not None
        report = await rollup_figures(session, community, DAY, ZONE)
        grid_report = await daily_figures(session, grid, DAY, ZONE)
    # Two days, each: the community in all, then its two grids.
    assert [(i["day"], i["area"]) for i in items] == [
        (day, code)
        for day in ("2026-06-30", "2026-07-01")
        for code in (COMMUNITY, "620201001001001", GRID_2)
    ]
    total, _, grid_day = items[3:]
    for shown, figures in ((total, report.total.counts), (grid_day, Counts.of(grid_report))):
        assert shown["reports"] == figures.reports == 4
        assert shown["arrived"] == figures.arrived == 3
        assert shown["expected"] == figures.expected == 1
        assert shown["monitoring"] == figures.monitoring == 2
        assert shown["monitoring_by_kind"] == figures.by_kind == {"home_isolation": 2}
        assert (
            (shown["checkins_due"], shown["checkins_answered"], shown["checkins_missed"])
            == (
                figures.checkins_due,
                figures.checkins_answered,
                figures.checkins_missed,
            )
            == (2, 1, 1)
        )
        assert (shown["abnormal"], shown["abnormal_handled"]) == (1, 1)
        assert (shown["missed"], shown["missed_handled"]) == (1, 0)
        assert shown["released"] == figures.released == 1
    # The fever was acknowledged (an action recorded); open: the expected arrival's (since
    # 10:00, so overdue at 20:00 after 6 hours) and the missed check-in (raised just now).
    for shown in (total, grid_day):
        assert (shown["alerts_open"], shown["alerts_acknowledged"], shown["alerts_overdue"]) == (
            2,
            1,
            1,
        )
    assert items[0]["reports"] == 0  # the day before: nothing yet


async def test_a_figures_token_never_sees_a_personal_field(
    client: httpx.AsyncClient, issue: Issue
) -> None:
    token = await issue(DISTRICT_A, "figures")
    seen = []
    for path in (f"/api/v1/areas/{DISTRICT_A}", f"/api/v1/areas/{DISTRICT_A}/figures"):
        answer = await client.get(path, params={"below": "true"}, headers=bearer(token))
        assert answer.status_code == 200
        seen.append(answer.text)
    figures = await client.get(
        f"/api/v1/areas/{GRID_2}/figures", params={"from": DAY.isoformat()}, headers=bearer(token)
    )
    assert figures.json()["items"][0]["reports"] == 4
    seen.append(figures.text)
    for text in seen:
        assert not any(name in text for name in NAMES)
        assert "138" not in text  # no phone number (they start 138…)
    for kind in PEOPLE_LISTS:
        refused = await client.get(f"/api/v1/areas/{DISTRICT_A}/{kind}", headers=bearer(token))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
    refused = await client.get("/api/v1/people/1/fhir", headers=bearer(token))
    assert refused.status_code == 403


async def test_a_people_token_sees_its_own_area_only(
    client: httpx.AsyncClient, issue: Issue
) -> None:
    ours, theirs = await issue(DISTRICT_A, "people"), await issue(DISTRICT_B, "people")
    listed = await client.get(f"/api/v1/areas/{DISTRICT_A}/people", headers=bearer(ours))
    assert listed.status_code == 200
    people = listed.json()["items"]
    assert sorted(p["name"] for p in people) == sorted(NAMES)
    assert all(p["grid"] == GRID_2 and "*" in p["id_number"] for p in people if p["id_number"])
    for kind in PEOPLE_LISTS:
        answer = await client.get(f"/api/v1/areas/{DISTRICT_A}/{kind}", headers=bearer(theirs))
        assert answer.status_code == 404, kind
        assert answer.json()["error"] == {
            "status": 404,
            "code": "not_found",
            "message": f"No area {DISTRICT_A} here.",
        }
    for path in (f"/api/v1/areas/{DISTRICT_A}/figures", f"/api/v1/people/{people[0]['id']}/fhir"):
        assert (await client.get(path, headers=bearer(theirs))).status_code == 404
    empty = await client.get(f"/api/v1/areas/{DISTRICT_B}/people", headers=bearer(theirs))
    assert empty.json()["items"] == []


async def test_the_lists_filter_and_page(client: httpx.AsyncClient, issue: Issue) -> None:
    token = await issue(DISTRICT_A, "people")

    async def get(kind: str, **params: str | int) -> dict[str, object]:
        answer = await client.get(
            f"/api/v1/areas/{DISTRICT_A}/{kind}", params=params, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    first = await get("people", per_page=3)
    second = await get("people", per_page=3, after=first["next_after"])  # type: ignore[arg-type]
    assert second["next_after"] is None
    ids = [p["id"] for page in (first, second) for p in page["items"]]  # type: ignore[attr-defined]
    assert len(ids) == 4 and ids == sorted(ids) and first["next_after"] == ids[2]
    expected = await get("people", status="expected")
    assert [p["name"] for p in expected["items"]] == ["Chen Jie"]  # type: ignore[attr-defined]
    checkins = await get("checkins")
    assert sorted(c["status"] for c in checkins["items"]) == ["answered", "missed"]  # type: ignore[attr-defined]
    (answered,) = (await get("checkins", status="answered"))["items"]  # type: ignore[misc]
    assert answered["temperature"] == 38.2
    plans = await get("plans", status="released")
    assert len(plans["items"]) == 1  # type: ignore[arg-type]
    alerts = await get("alerts", since=DAY.isoformat(), until=DAY.isoformat())
    kinds = {a["kind"] for a in alerts["items"]}  # type: ignore[attr-defined]
    assert {"fever", "missed_checkin"} <= kinds
    assert (await get("alerts", since="2026-07-02"))["items"] == []
    assert (await get("test-results"))["items"] == []


async def test_changed_since_pulls_only_what_changed(
    client: httpx.AsyncClient,
    issue: Issue,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    token = await issue(DISTRICT_A, "people")
    url = f"/api/v1/areas/{DISTRICT_A}/people"
    first = (await client.get(url, headers=bearer(token))).json()
    assert len(first["items"]) == 4
    clock.advance(timedelta(minutes=5))
    async with sessions.begin() as session:
        await session.execute(
            update(Resident)
            .where(Resident.name == "Zhao Lei")
            .values(phone="13900000000", updated_at=clock.now())
        )
    since = {"changed_since": first["as_of"]}
    changed = (await client.get(url, params=since, headers=bearer(token))).json()
    assert [(p["name"], p["phone"]) for p in changed["items"]] == [("Zhao Lei", "13900000000")]


async def test_tokens_revoked_expired_unknown_or_missing_get_401(
    client: httpx.AsyncClient,
    issue: Issue,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    url = f"/api/v1/areas/{DISTRICT_A}/figures"
    token = await issue(DISTRICT_A, "figures")
    short = await issue(DISTRICT_A, "figures", timedelta(hours=1))
    assert (await client.get(url, headers=bearer(token))).status_code == 200
    async with sessions.begin() as session:
        await revoke_token(session, 1, clock.now())
    clock.advance(timedelta(hours=2))
    for headers in (bearer(token), bearer(short), bearer("rtk_nonsense"), {}):
        answer = await client.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("figures", {"from": "2026-13-01"}, "from"),
        ("figures", {"from": "2026-07-02", "to": "2026-07-01"}, "to is before from"),
        ("figures", {"from": "2026-01-01", "to": "2026-07-01"}, "At most 92 days"),
        ("people", {"per_page": 0}, "per_page"),
        ("people", {"status": "asleep"}, "status is one of expected, arrived"),
        ("checkins", {"changed_since": "2026-07-01T10:00:00"}, "time zone"),
    ],
)
async def test_bad_parameters_get_422_saying_which(
    client: httpx.AsyncClient, issue: Issue, path: str, params: dict[str, str], says: str
) -> None:
    token = await issue(DISTRICT_A, "people")
    answer = await client.get(
        f"/api/v1/areas/{DISTRICT_A}/{path}", params=params, headers=bearer(token)
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid" and says in error["message"]


async def test_each_token_has_a_rate_limit(
    issue: Issue, sessions: async_sessionmaker[AsyncSession], config: ApiConfig
) -> None:
    from api.app import create_app

    config.rate_per_minute = 3
    transport = httpx.ASGITransport(app=create_app(sessions, config))
    one, other = await issue(DISTRICT_A, "figures"), await issue(DISTRICT_A, "figures")
    url = f"/api/v1/areas/{DISTRICT_A}"
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        statuses = [(await http.get(url, headers=bearer(one))).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await http.get(url, headers=bearer(one))
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "too_many_requests"
        assert (await http.get(url, headers=bearer(other))).status_code == 200


async def test_every_call_is_audited(
    client: httpx.AsyncClient, issue: Issue, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue(DISTRICT_A, "people")
    await client.get(f"/api/v1/areas/{DISTRICT_A}/people", headers=bearer(token))
    await client.get(f"/api/v1/areas/{DISTRICT_B}/people", headers=bearer(token))
    async with sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "api_call").order_by(AuditEntry.id)
            )
        )
    assert [
        (e.subject, e.details["path"], e.details["status"], e.details["rows"]) for e in entries
    ] == [
        ("api-token:1", f"/api/v1/areas/{DISTRICT_A}/people", 200, 4),
        ("api-token:1", f"/api/v1/areas/{DISTRICT_B}/people", 404, 0),
    ]


async def test_the_openapi_document_is_valid(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/openapi.json")
    document = answer.json()
    validate(document)
    paths = document["paths"]
    for kind in ("figures", *PEOPLE_LISTS):
        assert f"/api/v1/areas/{{code}}/{kind}" in paths
    assert "/api/v1/people/{person_id}/fhir" in paths
    figures = document["components"]["schemas"]["Figures"]["properties"]
    assert not {"name", "phone", "id_number"} & set(figures)


async def test_one_persons_monitoring_as_a_valid_fhir_bundle(
    client: httpx.AsyncClient, issue: Issue, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    token = await issue(DISTRICT_A, "people")
    async with sessions() as session:
        person_id = await session.scalar(select(Resident.id).where(Resident.name == "Wang Fang"))
    answer = await client.get(f"/api/v1/people/{person_id}/fhir", headers=bearer(token))
    assert answer.status_code == 200
    bundle = Bundle.model_validate(answer.json())
    resources = [entry.resource for entry in bundle.entry or []]
    kinds = [r.get_resource_type() for r in resources]
    assert kinds[0] == "Patient" and kinds.count("QuestionnaireResponse") == 1
    assert resources[0].name[0].text == "Wang Fang"
    readings = [r.valueQuantity.value for r in resources if r.get_resource_type() == "Observation"]
    assert 38.2 in [float(v) for v in readings]
    (checkin,) = [r for r in resources if r.get_resource_type() == "QuestionnaireResponse"]
    assert checkin.status == "completed"
    assert (await client.get("/api/v1/people/99999/fhir", headers=bearer(token))).status_code == 404


async def test_a_checkin_answered_after_today_was_counted_shows_within_the_minute(
    client: httpx.AsyncClient,
    issue: Issue,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    config: ApiConfig,
) -> None:
    """Today is read from the job's recent count (`store_today`), which the answer says; an
    answer given since shows at the job's next run, or once that count is too old to read."""
    token = await issue(DISTRICT_A, "figures")

    async def today() -> dict[str, Any]:
        answer = await client.get(
            f"/api/v1/areas/{GRID_2}/figures",
            params={"from": DAY.isoformat()},
            headers=bearer(token),
        )
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()["items"][0]
        return shown

    async def job() -> None:
        async with sessions.begin() as session:
            await store_today(session, clock.now(), ZONE, overdue_after=config.overdue_after)

    async def report() -> Counts:
        async with sessions() as session:
            grid = await area_by_code(session, GRID_2)
            assert grid is not None
            return Counts.of(await daily_figures(session, grid, DAY, ZONE))

    at(clock, 20, 30)
    counted_at = clock.now()
    await job()
    before = await today()
    assert before["checkins_missed"] == (await report()).checkins_missed == 1
    assert datetime.fromisoformat(before["as_of"]) == counted_at

    # Ten seconds later the silent person answers the evening's missed check-in, late.
    clock.at = counted_at + timedelta(seconds=10)
    await answer_the_missed_checkin(sessions, clock)
    assert (await report()).checkins_missed == 0
    # Until the job counts again, the figures are those it counted, and say when.
    stale = await today()
    assert (stale["checkins_missed"], stale["as_of"]) == (1, before["as_of"])

    # The job's next run, a minute on: the answer is in.
    clock.at = counted_at + timedelta(minutes=1)
    await job()
    after = await today()
    assert (after["checkins_missed"], after["checkins_answered"]) == (0, 1)
    assert datetime.fromisoformat(after["as_of"]) == clock.now()
    truth = await report()
    assert (after["checkins_due"], after["checkins_missed"]) == (
        truth.checkins_due,
        truth.checkins_missed,
    )

    # With no run of the job for longer than FRESH, today is counted for the call.
    clock.at = counted_at + timedelta(minutes=1) + FRESH + timedelta(seconds=1)
    live = await today()
    assert datetime.fromisoformat(live["as_of"]) == clock.now()
    assert {k: v for k, v in live.items() if k != "as_of"} == {
        k: v for k, v in after.items() if k != "as_of"
    }


async def test_the_figures_follow_the_daily_report_time(
    client: httpx.AsyncClient,
    issue: Issue,
    sessions: async_sessionmaker[AsyncSession],
    config: ApiConfig,
) -> None:
    """DAILY_REPORT_AT set to noon: a day's figures are those of the noon report (the 24 hours
    to 12:00), as the workers' reports are — not the default 20:00 ones."""
    config.report_at = time(12, 0)
    token = await issue(DISTRICT_A, "figures")
    answer = await client.get(
        f"/api/v1/areas/{GRID_2}/figures",
        params={"from": DAY.isoformat(), "to": DAY.isoformat()},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    [shown] = answer.json()["items"]
    async with sessions() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        at_noon = Counts.of(await daily_figures(session, grid, DAY, ZONE, at=time(12, 0)))
        at_eight = Counts.of(await daily_figures(session, grid, DAY, ZONE))
    fields = ("reports", "arrived", "expected", "monitoring", "checkins_due", "released")
    assert [shown[f] for f in fields] == [getattr(at_noon, f) for f in fields]
    # The day's story crosses noon, so the two reports differ (else this test shows nothing).
    assert [getattr(at_noon, f) for f in fields] != [getattr(at_eight, f) for f in fields]
