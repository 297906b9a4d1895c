"""APScheduler 3 in the bot process: a few periodic jobs kept in memory, each of which reads
what is due from our own indexed tables. No job per person and no job store: 20,000 jobs in
a SQLAlchemyJobStore froze the loop for half a minute here, and a store cannot be shared
between instances. Running a job twice (a restart, a second instance) is harmless because
what it queues is deduplicated in the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chat.clock import Clock
from models.db import COMMIT_AS_YOU_GO, StopRequested, scrub_files
from models.staff import AuditEntry
from services import (
    alerts,
    arrivals,
    checkins,
    digest,
    papers,
    pushed,
    release,
    retention,
    stored,
)
from services.options import Options

log = logging.getLogger(__name__)
# The first scrub a minute after the start; then hourly.
SCRUB_FIRST_AFTER = 60
SCRUB_EVERY = 3600
# The audit log's actions that erase personal data (services/retention.py, /forget).
ERASURES = ("forget", "purge")
# Jobs run at once at most: they all come due together at the start (a dozen connections
# held at once, then kept by the pool, were too many for a PostgreSQL shared by several
# instances), and none is in a hurry for a second.
JOBS_AT_ONCE = 2
Job = Callable[[AsyncSession, datetime, ZoneInfo], Awaitable[int]]


def periodic_jobs(options: Options) -> list[tuple[str, Job, int]]:
    """(name, job, every how many seconds): what is due is read from the tables each time."""
    return [
        ("ask_expected_arrivals", arrivals.ask_expected_arrivals, 300),
        # A slot's prompts go out within a minute of it opening (or of a restart).
        # A slot's test notices, test questions and check-in prompts, one message per chat.
        (
            "slot_round",
            partial(checkins.slot_round, times=options.checkin_times, grace=options.checkin_grace),
            30,
        ),
        ("remind_checkins", partial(checkins.remind_checkins, after=options.reminder_after), 60),
        ("record_misses", checkins.record_misses, 60),
        ("end_plans", release.end_plans, 600),
        ("phase_changes", release.phase_changes, 600),
        # A plan that keeps someone in comes with its notice (a PDF), once.
        ("plan_notices", papers.plan_notices, 60),
        # Residents found on a large pushed list, checked again a batch at a time.
        ("rescreen_pushed", partial(pushed.rescreen_matched, policy=options.policy), 30),
        # Alerts reach the grid's workers within a minute of being raised.
        ("deliver_alerts", alerts.deliver_alerts, 20),
        # Unacknowledged: sent again, then up a level (each once per alert and level).
        ("resend_alerts", partial(alerts.resend_alerts, after=options.alert_resend_after), 60),
        (
            "escalate_alerts",
            partial(alerts.escalate_alerts, after=options.alert_escalate_after),
            60,
        ),
        # From DAILY_REPORT_AT on, each worker's daily report (once a day each).
        ("daily_reports", partial(digest.daily_reports, at=options.daily_report_at), 60),
        # The figures of the days that are over, per grid (the API's ranges sum them), and
        # again for the grids and days a late answer or an action on an old alert changed.
        (
            "store_figures",
            partial(
                stored.store_figures,
                overdue_after=options.alert_escalate_after,
                at=options.daily_report_at,
            ),
            300,
        ),
        # Today's figures for every grid, which the API reads while they are recent
        # (`stored.FRESH`) instead of counting today for the whole city on each call.
        (
            "store_today",
            partial(
                stored.store_today_for_the_api,
                overdue_after=options.alert_escalate_after,
                at=options.daily_report_at,
            ),
            60,
        ),
        # Personal data of plans ended RETENTION_DAYS ago erased, counts kept (once a day).
        ("purge_expired", partial(retention.purge_expired, days=options.retention_days), 86400),
    ]


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        zone: ZoneInfo,
        jobs: list[tuple[str, Job, int]],
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.zone = zone
        self.on_queued = on_queued
        self.jobs = jobs
        self.scheduler = AsyncIOScheduler(timezone=zone)
        self._catching_up = asyncio.Lock()
        self._scrubbed_at: datetime | None = None
        # Jobs running now (by the scheduler or `run_all`), so a stop can let them end rather
        # than cut a database call in half: a connection cancelled mid-close is logged by
        # SQLAlchemy with a traceback, and the job's work would be rolled back for nothing.
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._tasks: set[asyncio.Task[object]] = set()
        self._slots = asyncio.Semaphore(JOBS_AT_ONCE)
        # Set once every job has had its first run (they all come due at the start): what a
        # restart does before the bot is only answering users.
        self.started_up = asyncio.Event()
        self._not_run_yet = {name for name, _, _ in jobs}

    def start(self) -> None:
        for name, job, seconds in self.jobs:
            self.scheduler.add_job(
                self.run_job,
                "interval",
                seconds=seconds,
                args=[name, job],
                id=name,
                next_run_time=datetime.now(self.zone),
                # A late run is still worth doing; runs piled up while away collapse into one.
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
            )
        # Erased personal data's old copies out of the database's files, hourly (and at
        # once on SQLite after /forget, handlers/app.py).
        self.scheduler.add_job(
            self.scrub,
            "interval",
            seconds=SCRUB_EVERY,
            id="scrub_files",
            # A minute after the start, not at it: a checkpoint or VACUUM cut off by a stop
            # in the first seconds could hold the stop up (seen with PTB on SIGTERM).
            next_run_time=datetime.now(self.zone) + timedelta(seconds=SCRUB_FIRST_AFTER),
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if task is not None:
                self._tasks.discard(task)
            if self._busy == 0:
                self._idle.set()

    def _chunk_committed(self) -> None:
        """After each chunk a long job commits: the worker nudged, and a stop honoured here,
        between two transactions, where nothing is cut off."""
        self.on_queued()
        if self._stopping:
            raise StopRequested

    async def scrub(self) -> bool:
        """VACUUM (PostgreSQL) or a WAL checkpoint (SQLite) if anything was erased since the
        last time (at the first run, in any case); whether it was done."""
        if self._stopping:
            return False
        with self._running():
            async with self._slots:
                return False if self._stopping else await self._scrub()

    async def _scrub(self) -> bool:
        engine = self.sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            return False
        now = self.clock.now()
        try:
            if self._scrubbed_at is not None:
                async with self.sessions() as session:
                    erased = await session.scalar(
                        select(func.count())
                        .select_from(AuditEntry)
                        .where(AuditEntry.action.in_(ERASURES), AuditEntry.at >= self._scrubbed_at)
                    )
                if not erased:
                    return False
            await scrub_files(engine)
        except asyncio.CancelledError:
            # Stopping while it runs (the first run comes right at the start): done next time.
            log.info("scrubbing the database files stopped by the shutdown")
            return False
        except (OperationalError, DBAPIError, OSError) as exc:
            log.error("scrubbing erased data from the files failed (%s); again in an hour", exc)
            return False
        self._scrubbed_at = now
        log.info("erased data scrubbed from the database files")
        return True

    async def run_job(self, name: str, job: Job) -> int:
        if self._stopping:
            return 0
        try:
            with self._running():
                async with self._slots:
                    return 0 if self._stopping else await self._run_job(name, job)
        finally:
            self._not_run_yet.discard(name)
            if not self._not_run_yet:
                self.started_up.set()

    async def _run_job(self, name: str, job: Job) -> int:
        try:
            async with self.sessions() as session:
                # A long job (a slot's round) commits as it goes and nudges the worker each
                # time (`models.db.commit_chunk`); the rest is committed here, or rolled back.
                session.info[COMMIT_AS_YOU_GO] = self._chunk_committed
                done = await job(session, self.clock.now(), self.zone)
                await session.commit()
        except StopRequested:
            log.info("job %s paused by the shutdown; the rest at the next start", name)
            return 0
        except asyncio.CancelledError:
            # Shutting down while a job runs: its transaction is rolled back and it runs
            # again after the next start; nothing to report as an error.
            log.info("job %s stopped by the shutdown", name)
            return 0
        except (OperationalError, DBAPIError, OSError) as exc:
            reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
            log.error(
                "job %s: storage unavailable (%s); it runs again at its next time", name, reason
            )
            return 0
        except Exception:
            log.exception("job %s failed; it runs again at its next time", name)
            return 0
        if done:
            log.info("job %s: %d", name, done)
            self.on_queued()
        return done

    async def run_all(self) -> None:
        """Every job once, in order, now: after the clock was moved (demo, tests), what became
        due is done without waiting for each job's next turn."""
        async with self._catching_up:
            for name, job, _ in self.jobs:
                await self.run_job(name, job)

    async def stop(self, grace: float = 15.0) -> None:
        """No new runs; the running ones end (a long one at its next chunk) within `grace`
        seconds, else they are cancelled."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("stopping with %d jobs still running: cancelled", self._busy)
            tasks = [task for task in self._tasks if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
