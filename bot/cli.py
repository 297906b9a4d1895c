"""The `returnee` command."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("returnee")


def fail(message: str, status: int = 2) -> NoReturn:
    click.echo(f"returnee: {message}", err=True)
    sys.exit(status)


def settings_or_exit(**overrides: Any) -> Settings:
    from bot.problems import sqlite_folder_missing

    try:
        settings = load_settings(**overrides)
        if settings.data_key is not None:
            # Every command reads and writes phones and ID numbers with the same keys.
            from models.crypto import use_keys

            use_keys(settings.keyring())
    except SettingsError as exc:
        fail(str(exc))
    missing = sqlite_folder_missing(settings.database_url)
    if missing is not None:
        fail(f"DATABASE_URL: cannot open the database (no folder {missing})")
    return settings


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text (save the file as CSV UTF-8)", status=1)


@asynccontextmanager
async def reaching_database() -> AsyncIterator[None]:
    """A database that cannot be reached or opened is one line (SettingsError), not a trace."""
    from bot.problems import first_line

    try:
        yield
    except (OperationalError, DBAPIError, OSError) as exc:
        raise SettingsError(f"DATABASE_URL: cannot open the database ({first_line(exc)})") from None


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on an up-to-date schema, or one clear line and exit 2."""
    from models.db import make_engine, make_sessions, schema_state

    engine = make_engine(settings.database_url)
    try:
        async with reaching_database():
            state = await schema_state(engine)
        if not state.up_to_date:
            fail(
                f"DATABASE_URL: schema at {state.current or 'nothing'}; run `returnee db upgrade` first"
            )
        yield make_sessions(engine)
    finally:
        await engine.dispose()


def run_async(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    from sqlalchemy.exc import StatementError

    from bot.problems import explain
    from models.crypto import DataKeyError

    try:
        asyncio.run(main())
    except (SettingsError, DataKeyError) as exc:
        fail(str(exc))
    except StatementError as exc:
        # A value to encrypt or decrypt without its key: SQLAlchemy wraps the key's error.
        if isinstance(exc.orig, DataKeyError):
            fail(str(exc.orig))
        reason = explain(exc)
        if reason is None:
            raise
        fail(reason)
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        # The database or the Bot API unreachable, a bad token, a port in use: one line.
        reason = explain(exc)
        if reason is None:
            raise
        fail(reason)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """returnee: arrivals report to their neighbourhood; grid workers look after them."""
    threading.excepthook = _quiet_after_the_loop


def _quiet_after_the_loop(args: threading.ExceptHookArgs) -> None:
    """aiosqlite's connection thread, after a connection that failed to open, may hand its
    last answer to an event loop that has already closed (the command has said its one line
    and is ending): nothing is lost, so no traceback either. Anything else is reported."""
    if isinstance(args.exc_value, RuntimeError) and "Event loop is closed" in str(args.exc_value):
        return
    threading.__excepthook__(args)


@main.command()
@click.option("--upgrade", is_flag=True, help="Bring the database schema up to date first.")
def run(upgrade: bool) -> None:
    """Run the bot (long polling, or a webhook when WEBHOOK_URL is set)."""
    settings = settings_or_exit()
    try:
        settings.token()
    except SettingsError as exc:
        fail(str(exc))
    from bot.logs import configure
    from bot.runtime import serve

    configure(settings.log_level)
    run_async(lambda: serve(settings, upgrade_schema=upgrade))


@main.command()
@click.option("--listen", default=None, help="HOST:PORT (default: API_LISTEN, 127.0.0.1:8090)")
def api(listen: str | None) -> None:
    """Run the read API and the dashboard (a process of its own on the bot's database)."""
    settings = settings_or_exit(**({"api_listen": listen} if listen else {}))
    from bot.logs import configure

    configure(settings.log_level)
    host, _, port = settings.api_listen.rpartition(":")

    async def go() -> None:
        from datetime import timedelta

        import aiohttp

        from api.server import SchemaNotReady, serve
        from bot.clock import EmulatorClock
        from chat.clock import Clock, SystemClock

        clock: Clock = SystemClock()
        following = None
        if settings.clock == "emulator":
            # The bot's day is the emulator's (the demo and the tests move it): so is ours.
            follow = EmulatorClock(settings.bot_api_url)
            try:
                await follow.sync()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                fail(f"CLOCK: cannot read the emulator's clock ({exc})")

            async def nothing() -> None:
                return None

            clock, following = follow, asyncio.create_task(follow.follow(nothing))
        click.echo(
            f"returnee api on http://{host}:{port}  (OpenAPI: /api/openapi.json, dashboard: /web)"
        )
        try:
            await serve(
                settings.database_url,
                host,
                int(port),
                zone=settings.zone,
                overdue_after=timedelta(minutes=settings.alert_escalate_after_minutes),
                report_at=settings.daily_report_time,
                rate_per_minute=settings.api_rate_per_minute,
                public_url=settings.web_url or f"http://{host}:{port}",
                clock=clock,
            )
        except SchemaNotReady as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"API_LISTEN: cannot listen on {host}:{port} ({exc.strerror or exc})")
        finally:
            if following is not None:
                following.cancel()

    run_async(go)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations."""
    settings = settings_or_exit()

    async def go() -> None:
        from models.db import make_engine, schema_state, upgrade

        engine = make_engine(settings.database_url)
        try:
            async with reaching_database():
                await upgrade(engine, revision)
                state = await schema_state(engine)
        finally:
            await engine.dispose()
        click.echo(f"database schema at {state.current} (latest {state.head})")

    run_async(go)


@db.command("current")
def db_current() -> None:
    """Say which schema revision the database has (exit 1 when it is out of date)."""
    settings = settings_or_exit()

    async def go() -> None:
        from models.db import make_engine, schema_state

        engine = make_engine(settings.database_url)
        try:
            async with reaching_database():
                state = await schema_state(engine)
        finally:
            await engine.dispose()
        verdict = "up to date" if state.up_to_date else "out of date: run `returnee db upgrade`"
        click.echo(
            f"database schema at {state.current or 'nothing'} (latest {state.head}): {verdict}"
        )
        if not state.up_to_date:
            sys.exit(1)  # scripts and health checks can tell

    run_async(go)


@main.group()
def admin() -> None:
    """Administration: areas, risk lists, staff, data."""


@admin.command("secret")
def secret_command() -> None:
    """Print a new WEBHOOK_SECRET (43 random characters of Telegram's allowed set)."""
    from bot.webhook import new_secret

    click.echo(new_secret())


@admin.command("new-key")
def new_key_command() -> None:
    """Print a new DATA_KEY (32 random bytes, base64). Keep it apart from the backups."""
    from models.crypto import new_key

    click.echo(new_key())


@admin.command("rotate-key")
@click.option("--batch", default=500, show_default=True, help="People re-encrypted at a time.")
def rotate_key(batch: int) -> None:
    """Re-encrypt phones and ID numbers with DATA_KEY, reading the old ones with DATA_KEY_OLD.

    Set the new key as DATA_KEY and the old as DATA_KEY_OLD, restart the bot, run this (the
    bot may keep running), then remove DATA_KEY_OLD and restart."""
    settings = settings_or_exit()
    if settings.data_key is None:
        fail("DATA_KEY: missing (the new key; the old one goes in DATA_KEY_OLD)")

    async def go() -> None:
        from models.chat import reencrypt_conversations
        from models.outbox import reencrypt_texts
        from services.pushed import reencrypt_rows
        from services.residents import reencrypt

        # What holds encrypted values, a batch at a time: people (phones, ID numbers), the
        # answers of unfinished conversations, the texts of the messages the bot sends, the
        # rows of pushed lists.
        tables = (
            (reencrypt, "people up to #{}"),
            (reencrypt_conversations, "conversations up to user {}"),
            (reencrypt_texts, "messages up to #{}"),
            (reencrypt_rows, "pushed lists' rows up to #{}"),
        )
        done = 0
        async with database(settings) as sessions:
            for step, said in tables:
                last = 0
                while True:
                    async with sessions.begin() as session:
                        reached = await step(session, last, batch)
                    if reached is None:
                        break
                    done, last = done + 1, reached
                    click.echo("re-encrypted " + said.format(last))
        click.echo(
            f"done: every phone and ID number is under the current DATA_KEY ({done} batches)"
        )

    run_async(go)


@admin.group()
def areas() -> None:
    """Our jurisdiction: city → district → street/town → community → grid."""


@areas.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def areas_import(file: Path) -> None:
    """Import or update areas from a CSV file (code,name,level,parent_code)."""
    settings = settings_or_exit()

    async def go() -> None:
        from models.areas import ImportProblem, import_areas

        async with database(settings) as sessions:
            try:
                async with sessions.begin() as session:
                    result = await import_areas(session, read_text(file))
            except ImportProblem as problem:
                fail(f"{file}: {problem}; nothing was imported", status=1)
        click.echo(
            f"areas: {result.added} added, {result.renamed} changed, {result.unchanged} unchanged"
        )

    run_async(go)


@admin.command("invite")
@click.option("--area", "code", required=True, help="The area's code (see the areas file).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["grid", "community", "street", "district", "city"]),
)
def invite(code: str, role: str) -> None:
    """Print a one-time code (valid 72 hours) a worker sends as /join CODE."""
    settings = settings_or_exit()

    async def go() -> None:
        from datetime import timedelta

        from chat.clock import SystemClock
        from models.areas import area_by_code
        from models.staff import ROLES, Invite, new_invite_code

        now = SystemClock().now()
        async with database(settings) as sessions, sessions.begin() as session:
            area = await area_by_code(session, code)
            if area is None:
                fail(f"--area: no area with code {code}", status=1)
            if area.level != ROLES[role]:
                fail(
                    f"--role: a {role} worker is invited for a {ROLES[role]}, and {code} is a {area.level}",
                    status=1,
                )
            invitation = Invite(
                code=new_invite_code(),
                area_id=area.id,
                role=role,
                created_at=now,
                expires_at=now + timedelta(hours=72),
            )
            session.add(invitation)
        click.echo(f"/join {invitation.code}")
        click.echo(f"for a {role} worker of {area.name} ({code}); valid for 72 hours, once")

    run_async(go)


@admin.group()
def staff() -> None:
    """Grid workers and the levels above them."""


@staff.command("list")
def staff_list() -> None:
    """Everyone who joined, with their area and whether they are active."""
    settings = settings_or_exit()

    async def go() -> None:
        from sqlalchemy import select

        from models.areas import Area
        from models.staff import Staff

        async with database(settings) as sessions, sessions() as session:
            rows = (await session.execute(select(Staff, Area).join(Area).order_by(Staff.id))).all()
        click.echo(f"{len(rows)} staff")
        for member, area in rows:
            state = "revoked" if member.revoked_at else "active"
            click.echo(
                f"  #{member.id} user {member.user_id}  {member.role:<9} {area.code} {area.name}  {state}"
            )

    run_async(go)


@staff.command("revoke")
@click.argument("staff_id", type=int)
def staff_revoke(staff_id: int) -> None:
    """Take a worker's access away (their records stay with the area)."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from models.staff import Staff

        async with database(settings) as sessions, sessions.begin() as session:
            member = await session.get(Staff, staff_id)
            if member is None:
                fail(f"no staff #{staff_id}", status=1)
            member.revoked_at = member.revoked_at or SystemClock().now()
        click.echo(f"staff #{staff_id} revoked")

    run_async(go)


@admin.group("api-token")
def api_token() -> None:
    """Tokens for the read API (`returnee api`): one area, one scope each."""


@api_token.command("create")
@click.option("--area", "code", required=True, help="The area's code: it and all below it.")
@click.option(
    "--scope",
    required=True,
    type=click.Choice(["figures", "people"]),
    help="figures: counts only, never a personal field; people: the people too.",
)
@click.option("--expires", default="90d", show_default=True, help="e.g. 90d, 12w, 24h")
@click.option("--label", default="", help="Who it is for (shown by list).")
def api_token_create(code: str, scope: str, expires: str, label: str) -> None:
    """Make a token and print it once (only its hash is kept)."""
    settings = settings_or_exit()
    from services.access import AccessProblem, parse_duration

    try:
        span = parse_duration(expires)
    except AccessProblem as exc:
        fail(f"--expires: {exc}")

    async def go() -> None:
        from chat.clock import SystemClock
        from services.access import create_token

        async with database(settings) as sessions, sessions.begin() as session:
            try:
                issued = await create_token(
                    session,
                    area_code=code,
                    scope=scope,
                    expires=span,
                    now=SystemClock().now(),
                    label=label,
                )
            except AccessProblem as exc:
                fail(str(exc), status=1)
        token = issued.token
        click.echo(issued.secret)
        click.echo(
            f"API token #{token.id}: {scope} of {issued.area.name} ({code}) and below, until "
            f"{token.expires_at.astimezone(settings.zone):%Y-%m-%d %H:%M}. It is shown only "
            "now: keep it secret.",
            err=True,
        )

    run_async(go)


@api_token.command("list")
def api_token_list() -> None:
    """Every token: its start, area, scope and state (never the token itself)."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from services.access import list_tokens, token_state

        now = SystemClock().now()
        async with database(settings) as sessions, sessions() as session:
            tokens = await list_tokens(session)
        click.echo(f"{len(tokens)} API tokens")
        for token, area in tokens:
            used = (
                f"last used {token.last_used_at.astimezone(settings.zone):%Y-%m-%d %H:%M}"
                if token.last_used_at
                else "never used"
            )
            click.echo(
                f"  #{token.id} {token.hint}…  {token.scope:<7} {area.code} {area.name}  "
                f"{token_state(token, now)} (expires "
                f"{token.expires_at.astimezone(settings.zone):%Y-%m-%d}), {used}"
                + (f"  {token.label}" if token.label else "")
            )

    run_async(go)


@api_token.command("revoke")
@click.argument("token_id", type=int)
def api_token_revoke(token_id: int) -> None:
    """Stop a token at once (its calls are answered 401)."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from services.access import AccessProblem, revoke_token

        async with database(settings) as sessions, sessions.begin() as session:
            try:
                await revoke_token(session, token_id, SystemClock().now())
            except AccessProblem as exc:
                fail(str(exc), status=1)
        click.echo(f"API token #{token_id} revoked")

    run_async(go)


@admin.group()
def risk() -> None:
    """Risk areas elsewhere (high / medium / low), with their history."""


@risk.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def risk_import(file: Path) -> None:
    """Add listings from CSV (place,level,valid_from[,valid_to]); re-screen raised places."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from models.risk import RiskImportProblem, import_risk_areas
        from rules.policy import load_policy
        from services.rescreen import rescreen

        now = SystemClock().now()
        async with database(settings) as sessions:
            try:
                async with sessions.begin() as session:
                    result = await import_risk_areas(
                        session, read_text(file), source=file.name, now=now
                    )
                    screened = [
                        await rescreen(
                            session,
                            place=listing.place,
                            since=listing.valid_from,
                            now=now,
                            zone=settings.zone,
                            policy=load_policy(settings.policy),
                        )
                        for listing in result.raised
                        if listing.level in ("high", "medium")
                    ]
            except RiskImportProblem as problem:
                fail(f"{file}: {problem}; nothing was imported", status=1)
        click.echo(f"risk areas: {result.added} listings added")
        for place in result.unresolved:
            click.echo(f"  not in the gazetteer, matched by name only: {place}")
        for place in result.partial:
            click.echo(f"  below the gazetteer's places, its people to be confirmed: {place}")
        people = sum(s.people for s in screened)
        if screened:
            click.echo(f"re-screened: {people} people in {sum(s.grids for s in screened)} grids")

    run_async(go)


@risk.command("list")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
def risk_list(day: Any) -> None:
    """The listings in force on a day."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from models.risk import listings_on

        on = day.date() if day else SystemClock().now().astimezone(settings.zone).date()
        async with database(settings) as sessions, sessions() as session:
            listings = await listings_on(session, on)
        click.echo(f"{len(listings)} risk areas in force on {on.isoformat()}")
        for item in sorted(listings, key=lambda x: ("high", "medium", "low").index(x.level)):
            until = item.valid_to.isoformat() if item.valid_to else "…"
            click.echo(f"  {item.level:<6} {item.place}  ({item.valid_from.isoformat()} – {until})")

    run_async(go)


@admin.group()
def pushed() -> None:
    """Lists pushed from above (协查名单): import, then find everyone on them."""


@pushed.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Who pushed it, e.g. 省指挥部 协查 12-01.")
@click.option("--deadline", default="24h", show_default=True, help="Time allowed: 24h, 3d, 90m.")
@click.option("--area", "code", default=None, help="The area it is for (default: the city).")
def pushed_import(file: Path, source: str, deadline: str, code: str | None) -> None:
    """Import a pushed list (.xlsx or .csv): match, re-screen, and give out the tasks."""
    settings = settings_or_exit()
    from services.pushed import parse_deadline

    try:
        allowed = parse_deadline(deadline)
    except ValueError as problem:
        fail(f"--deadline: {problem}")
    if not source.strip():
        fail("--source: say who pushed the list")
    data = file.read_bytes()

    async def go() -> None:
        from sqlalchemy import select

        from chat.clock import SystemClock
        from models.areas import Area, area_by_code
        from rules.policy import load_policy
        from services.pushed import ListProblem, import_list

        async with database(settings) as sessions:
            try:
                async with sessions.begin() as session:
                    if code is not None:
                        area = await area_by_code(session, code)
                        if area is None:
                            fail(f"--area: no area with code {code}", status=1)
                    else:
                        area = await session.scalar(
                            select(Area).where(Area.parent_id.is_(None)).order_by(Area.id).limit(1)
                        )
                        if area is None:
                            fail("no areas yet: `returnee admin areas import` first", status=1)
                    result = await import_list(
                        session,
                        data,
                        file.name,
                        source=source.strip(),
                        deadline=allowed,
                        area=area,
                        imported_by=None,
                        now=SystemClock().now(),
                        zone=settings.zone,
                        policy=load_policy(settings.policy),
                    )
            except ListProblem as problem:
                fail(f"{file}: {problem}; nothing was imported", status=1)
        listed = result.pushed
        if not result.new:
            click.echo(f"list {listed.id}: this file was imported already; nothing changed")
        else:
            click.echo(
                f"list {listed.id}: {listed.rows_good} imported, {len(result.bad)} bad; "
                f"{result.matched} matched and re-screened, {result.tasks} tasks "
                f"({result.possible} possible matches, {result.to_district} to a district's "
                f"queue, {result.transfers} transfers before arrival)"
            )
            if result.unknown_columns:
                click.echo(f"columns kept as they are: {', '.join(result.unknown_columns)}")
        for bad in result.bad:
            click.echo(f"line {bad.line}: {bad.problem}")

    run_async(go)


@admin.command("rescreen")
@click.option("--place", required=True, help="e.g. 上海市, or 中国/湖北省/武汉市")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
def rescreen_command(place: str, since: Any) -> None:
    """Find everyone who came from or passed through PLACE since a date, and re-classify."""
    settings = settings_or_exit()

    async def go() -> None:
        from chat.clock import SystemClock
        from rules.policy import load_policy
        from services.rescreen import rescreen

        async with database(settings) as sessions, sessions.begin() as session:
            result = await rescreen(
                session,
                place=place,
                since=since.date(),
                now=SystemClock().now(),
                zone=settings.zone,
                policy=load_policy(settings.policy),
            )
        click.echo(f"re-screened: {result.people} people in {result.grids} grids")

    run_async(go)


@admin.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count who is due; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Erase personal data kept longer than RETENTION_DAYS after a plan ended (audited)."""
    settings = settings_or_exit()
    days = settings.retention_days

    async def go() -> None:
        from datetime import timedelta

        from chat.clock import SystemClock
        from services.retention import ADMIN, due_for_purge, purge

        now = SystemClock().now()
        async with database(settings) as sessions:
            if dry_run:
                async with sessions() as session:
                    due = (await session.scalars(due_for_purge(now - timedelta(days=days)))).all()
                click.echo(
                    f"due for purge: {len(due)} people (RETENTION_DAYS={days}); nothing changed"
                )
                return
            async with sessions.begin() as session:
                done = await purge(session, now, days=days, by=ADMIN)
            if done.people or done.conversations or done.messages:
                from models.db import scrub_files

                engine = sessions.kw["bind"]
                await scrub_files(engine)
        click.echo(
            f"purged: {done.people} people whose data was kept {days} days "
            f"(RETENTION_DAYS); cleared {done.conversations} unfinished conversations "
            f"and {done.messages} sent messages"
        )

    run_async(go)


def sqlite_or_advice(settings: Settings) -> Path:
    from bot.backup import BackupProblem, postgres_advice, sqlite_file

    try:
        path = sqlite_file(settings.database_url)
    except BackupProblem as problem:
        fail(str(problem))
    if path is None:
        click.echo(postgres_advice(settings.database_url), err=True)
        sys.exit(2)
    return path


@admin.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH (safe while the bot runs)."""
    from bot.backup import BackupProblem, backup

    source = sqlite_or_advice(settings_or_exit())
    try:
        copied = backup(source, path)
    except BackupProblem as problem:
        fail(str(problem), status=1)
    click.echo(
        f"backup of {source} written to {copied.path} "
        f"({copied.size:,} bytes, schema {copied.revision or 'none'})"
    )


@admin.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Really replace the database (stop the bot first).")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database's content with the backup at PATH."""
    from bot.backup import BackupProblem, check_backup, in_use, restore

    settings = settings_or_exit()
    target = sqlite_or_advice(settings)
    try:
        revision = check_backup(path)
    except BackupProblem as problem:
        fail(str(problem), status=1)
    busy = in_use(target)
    if busy:
        click.echo(
            f"warning: {target} looks in use (its -wal file exists or a transaction is open): "
            "stop the bot first, or what it writes meanwhile is lost",
            err=True,
        )
    if not yes:
        click.echo(
            f"this replaces everything in {target} with {path} (schema {revision or 'none'}); "
            "the current database is kept beside it. Run again with --yes to go on.",
            err=True,
        )
        sys.exit(1)
    try:
        restored, kept = restore(path, target)
    except BackupProblem as problem:
        fail(str(problem), status=1)
    click.echo(f"restored {target} from {path} (schema {restored.revision or 'none'})")
    if kept is not None:
        click.echo(f"the database as it was is kept at {kept}")

    async def schema() -> None:
        from models.db import make_engine, schema_state

        engine = make_engine(settings.database_url)
        try:
            state = await schema_state(engine)
        finally:
            await engine.dispose()
        if not state.up_to_date:
            click.echo(f"the backup's schema is older than {state.head}: run `returnee db upgrade`")

    run_async(schema)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--limits/--no-limits", default=True, show_default=True, help="Telegram's flood limits."
)
def emulator(host: str, port: int, limits: bool) -> None:
    """Run the local Bot API emulator (for the demo and tests)."""
    from bot.logs import configure
    from emulator import serve as serve_emulator

    configure("INFO")
    click.echo(f"Bot API emulator on http://{host}:{port} (control API under /control)")
    run_async(lambda: serve_emulator(host, port, limits=limits))


@main.command()
@click.option("--user", "user_id", default=1, show_default=True, type=int)
@click.option("--emulator", "base_url", default="http://127.0.0.1:8080", show_default=True)
@click.option("--language", default="zh-hans", show_default=True, help="Telegram's language_code.")
def chat(user_id: int, base_url: str, language: str) -> None:
    """Talk to the bot in the emulator from this terminal, as a simulated user."""
    from bot.terminal_chat import chat as run_chat

    run_async(lambda: run_chat(base_url, user_id, language))


@main.command()
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The emulator's port.",
)
@click.option("--database", default="sqlite+aiosqlite:///demo.db", show_default=True)
@click.option(
    "--api-port", default=8090, show_default=True, type=int, help="The API and dashboard's port."
)
def demo(port: int, database: str, api_port: int) -> None:
    """The emulator, the bot against it, the API and dashboard, and demo data, in one go (no
    token needed)."""
    from bot.demo import run_demo

    run_demo(port=port, database_url=database, api_port=api_port)


if __name__ == "__main__":
    main()
