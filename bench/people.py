"""People under home monitoring today, for the check-in round and the answers.

Each person reports for themselves (one Telegram chat each), has an active 14-day home
isolation plan around today, and lives in one of ten grids. With `open_at` a check-in of
that slot exists for each (already reminded), and each is at the last question of the
check-in conversation ("did you go out today?"), so one button press completes it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bench.bulk import Loader, Row
from bench.city import AREA_COLUMNS, FIRST_USER, area_tree, table
from bench.common import sealed
from chat.buttons import SEPARATOR
from handlers.checkin import CURRENT

# The check-in conversation's last question, and the answer the benchmark presses.
LAST_STEP = "ask_checkin_out"
STAYED_HOME = f"{LAST_STEP}{SEPARATOR}no"


def user_ids(count: int) -> list[int]:
    return [FIRST_USER + n for n in range(1, count + 1)]


async def seed(
    url: str,
    count: int,
    today: date,
    now: datetime,
    *,
    open_at: tuple[datetime, datetime] | None = None,
    test_days: tuple[date, ...] = (),
) -> list[int]:
    """`count` monitored people; returns their Telegram user ids (= chat ids). They arrived
    two days ago (monitoring counts slots from an hour after arrival); `test_days`: the days
    their plan takes a nucleic-acid sample."""
    areas = area_tree(10)
    users = user_ids(count)
    first, last = today - timedelta(days=3), today + timedelta(days=10)
    phases = [{"kind": "home_isolation", "first": first.isoformat(), "last": last.isoformat()}]
    arrived = now - timedelta(days=2)
    sampled = [day.isoformat() for day in test_days]
    async with Loader(url) as loader:
        await loader.load(table("areas"), AREA_COLUMNS, areas.rows)
        await loader.load(
            table("chat_users"),
            ("id", "chat_id", "language", "consented_at", "created_at", "last_seen_at"),
            (
                (u, u, "en" if n % 10 == 0 else "zh_Hans", now, now, now)
                for n, u in enumerate(users)
            ),
        )
        grid = [areas.grids[n % len(areas.grids)] for n in range(count)]
        await loader.load(
            table("households"),
            ("id", "grid_id", "address", "reporter_user_id", "created_at"),
            ((n + 1, grid[n], "1号", u, now) for n, u in enumerate(users)),
        )
        await loader.load(
            table("residents"),
            (
                "id",
                "household_id",
                "grid_id",
                "user_id",
                "reporter_user_id",
                "relation",
                "name",
                "phone",
                "phone_tail_hash",
                "created_at",
                "updated_at",
            ),
            (
                (
                    n + 1,
                    n + 1,
                    grid[n],
                    u,
                    u,
                    "self",
                    f"居民{n + 1}",
                    *sealed(f"+86139{n + 1:08d}", None)[::2],  # the phone and its hash
                    now,
                    now,
                )
                for n, u in enumerate(users)
            ),
        )
        await loader.load(
            table("arrivals"),
            (
                "id",
                "resident_id",
                "status",
                "arrived_at",
                "reported_at",
                "origin_text",
                "transport",
                "symptoms",
                "grid_id",
            ),
            (
                (n, n, "arrived", arrived, arrived, "广东省广州市", "train", [], grid[n - 1])
                for n in range(1, count + 1)
            ),
        )
        await loader.load(
            table("plans"),
            (
                "id",
                "resident_id",
                "arrival_id",
                "policy",
                "plan_key",
                "rule",
                "reason",
                "phases",
                "test_days",
                "negatives_needed",
                "refer_to_clinic",
                "needs_confirmation",
                "starts_on",
                "ends_on",
                "status",
                "created_at",
                "grid_id",
            ),
            (
                (
                    n,
                    n,
                    n,
                    "jiayuguan",
                    "home_isolation",
                    2,
                    "bench",
                    phases,
                    sampled,
                    1,
                    False,
                    False,
                    first,
                    last,
                    "active",
                    now,
                    grid[n - 1],
                )
                for n in range(1, count + 1)
            ),
        )
        # Each plan's notice issued when it began, as the bot would have: the scheduler's
        # `plan_notices` job, running beside a measurement, has none to draw.
        await loader.load(
            table("papers"),
            ("id", "code", "kind", "plan_id", "resident_id", "language", "issued_at"),
            ((n, f"B{n:07d}", "notice", n, n, "zh_Hans", now) for n in range(1, count + 1)),
        )
        if open_at is not None:
            start, end = open_at
            await loader.load(
                table("checkins"),
                (
                    "id",
                    "plan_id",
                    "resident_id",
                    "reporter_user_id",
                    "slot_start",
                    "slot_end",
                    "reminded_at",
                    "late",
                    "symptoms",
                    "extra",
                    "grid_id",
                ),
                (
                    (n + 1, n + 1, n + 1, u, start, end, start, False, [], {}, grid[n])
                    for n, u in enumerate(users)
                ),
            )
            answers: list[Row] = [
                (
                    u,
                    LAST_STEP,
                    {CURRENT: [n + 1], "checkin_temperature": 36.5, "checkin_symptoms": ["none"]},
                    now,
                )
                for n, u in enumerate(users)
            ]
            await loader.load(
                table("conversations"), ("user_id", "step", "answers", "updated_at"), answers
            )
    return users
