"""Phones and ID numbers are stored encrypted, found by their keyed hashes, re-encrypted
under a new key while readable under the old, and encrypted by the migration that brought
encryption in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import Connection, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models import crypto
from models.chat import ChatUser, Conversation
from models.crypto import DataKeyError, Keyring, use_keys
from models.db import alembic_config, make_engine, make_sessions, upgrade
from models.people import Change, Resident, id_number_hashes
from services.residents import reencrypt
from tests.handlers import test_register
from tests.handlers.test_register import Town
from tests.handlers.test_report import consent
from tests.handlers.test_staff import GRID_2, deliver, worker_of
from tests.services.test_plans import report_from
from tests.support import Person

town = test_register.town

NUMBERS = ("8613812345678", "13812345678", "11010519491231002X", "8613900001111", "E12345678")


@pytest.fixture
def keys() -> Iterator[Keyring]:
    """The process's keys, put back after the test changes them."""
    before = crypto.keyring()
    yield before
    use_keys(before)


async def raw_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT name, phone, id_number, phone_tail_hash, id_number_hash FROM residents")
        )
        return [tuple(row) for row in rows]


@pytest.mark.usefixtures("areas")
async def test_the_table_holds_no_phone_or_id_number_yet_the_worker_finds_them(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await raw_rows(sessions)
    assert len(rows) == 3
    stored = "\n".join(str(row) for row in rows)
    for number in NUMBERS:
        assert number not in stored
    assert all(row[1].startswith("v1.") and row[2].startswith("v1.") for row in rows)
    # /find by the whole phone, its last digits, or the whole ID number (any case).
    for wanted in ("13812345678", "+86 138 1234 5678", "5678", "11010519491231002x"):
        await town.two.send(f"/find {wanted}")
        assert town.two.last.labels == ["Li Na · 新华南路社区第二网格"], wanted
    # Not the last four alone: the digits typed must be in the phone.
    await town.two.send("/find 99995678")
    assert "No one matching" in town.two.last.text
    await town.one.send("/find E12345678")
    assert town.one.last.labels == ["Wang Fang · 新华南路社区第一网格"]
    # A worker still reads them, where the records are theirs to read.
    await town.two.send("/find Li Na")
    await town.two.press("Li Na")
    assert "+8613812345678" in town.two.last.text


@pytest.mark.usefixtures("areas")
async def test_a_value_moved_to_another_column_does_not_decrypt(
    town: Town, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await session.execute(text("UPDATE residents SET id_number = phone"))
    with pytest.raises(DataKeyError, match="does not decrypt"):
        async with sessions() as session:
            (await session.scalars(select(Resident))).all()


@pytest.mark.usefixtures("areas")
async def test_a_new_key_reads_the_old_and_rotation_moves_everyone_to_it(
    town: Town, sessions: async_sessionmaker[AsyncSession], keys: Keyring
) -> None:
    old_raw, new_raw = crypto.parse_key(os.environ["DATA_KEY"]), os.urandom(32)
    async with sessions.begin() as session:
        li = (await session.scalars(select(Resident).where(Resident.name == "Li Na"))).one()
        li.phone = "+8613811112222"
        session.add(
            Change(
                resident_id=li.id,
                field="phone",
                old=keys.encrypt("+8613812345678", "changes.phone"),
                new=keys.encrypt("+8613811112222", "changes.phone"),
                changed_by=1001,
                changed_at=li.updated_at,
            )
        )
    # DATA_KEY is new, DATA_KEY_OLD the old one: the old values are read, and found.
    use_keys(Keyring(new_raw, [old_raw]))
    await town.two.send("/find 11112222")
    assert town.two.last.labels == ["Li Na · 新华南路社区第二网格"]
    batches, last = 0, 0
    while (reached := await _batch(sessions, last)) is not None:
        batches, last = batches + 1, reached
    assert batches == 2  # two people a batch
    # Then the new key alone reads everything, and finds it.
    use_keys(Keyring(new_raw))
    rows = await raw_rows(sessions)
    current = crypto.keyring().current.id
    assert {crypto.keyring().key_id(row[1]) for row in rows} == {current}
    assert {crypto.keyring().key_id(row[2]) for row in rows} == {current}
    async with sessions() as session:
        phones = sorted(p.phone or "" for p in await session.scalars(select(Resident)))
        change = (await session.scalars(select(Change).where(Change.field == "phone"))).one()
    assert phones == ["+8613700002222", "+8613811112222", "+8613900001111"]
    assert crypto.keyring().decrypt(change.old, "changes.phone") == "+8613812345678"
    await town.two.send("/find 11112222")
    assert town.two.last.labels == ["Li Na · 新华南路社区第二网格"]
    await town.one.send("/find E12345678")
    assert town.one.last.labels == ["Wang Fang · 新华南路社区第一网格"]
    # A value under a key that is in neither setting is refused with a clear line.
    with pytest.raises(DataKeyError, match="DATA_KEY_OLD"):
        Keyring(new_raw).decrypt(
            Keyring(old_raw).encrypt("x", "residents.phone"), "residents.phone"
        )


async def _batch(sessions: async_sessionmaker[AsyncSession], after: int) -> int | None:
    async with sessions.begin() as session:
        return await reencrypt(session, after, limit=2)


async def test_the_migration_encrypts_the_people_already_there(database_url: str) -> None:
    """A database from before encryption, with a person and a corrected phone: 0014 encrypts
    and hashes them, and they read back as they were."""
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0012")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO areas (id, code, name, level, path) VALUES (1, 'G', 'G', 'grid', 'G')",
                "INSERT INTO households (id, grid_id, reporter_user_id, created_at)"
                " VALUES (1, 1, 7, :now)",
                "INSERT INTO residents (id, household_id, grid_id, reporter_user_id, relation,"
                " name, phone, id_number, created_at, updated_at) VALUES (1, 1, 1, 7, 'self',"
                " 'Li Na', '+8613812345678', '11010519491231002X', :now, :now)",
                "INSERT INTO changes (id, resident_id, field, old, new, changed_by, changed_at)"
                " VALUES (1, 1, 'phone', '\"+8613800000000\"', '\"+8613812345678\"', 7, :now)",
            ):
                await connection.execute(text(statement), {"now": datetime(2026, 7, 1)})
        await upgrade(engine)
        sessions = make_sessions(engine)
        stored = "\n".join(str(row) for row in await raw_rows(sessions))
        async with sessions() as session:
            li = (await session.scalars(select(Resident))).one()
            change = (await session.scalars(select(Change))).one()
            found = await session.scalar(
                select(Resident.id).where(
                    Resident.id_number_hash.in_(id_number_hashes("11010519491231002X"))
                )
            )
        # And back: the downgrade decrypts them (with foreign keys on, on SQLite too).
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to, "0012")
        async with engine.connect() as connection:
            plain = (await connection.execute(text("SELECT phone, id_number FROM residents"))).one()
    finally:
        await engine.dispose()
    assert "13812345678" not in stored and "11010519491231002X" not in stored
    assert (li.phone, li.id_number) == ("+8613812345678", "11010519491231002X")
    assert found == 1 and li.phone_tail_hash is not None
    assert crypto.keyring().decrypt(change.old, "changes.phone") == "+8613800000000"
    assert tuple(plain) == ("+8613812345678", "11010519491231002X")


def _downgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def test_a_key_is_32_bytes_of_base64() -> None:
    assert len(crypto.parse_key(crypto.new_key())) == 32
    for bad in ("", "short", "c2hvcnQ=", "!" * 44):
        with pytest.raises(DataKeyError):
            crypto.parse_key(bad)


@pytest.mark.usefixtures("areas")
async def test_an_unfinished_reports_answers_are_stored_encrypted(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await consent(resident)
    await resident.send("Li Na")
    await resident.share_contact("8613812345678")
    await resident.send("11010519491231002X")
    async with sessions() as session:
        (raw,) = (await session.execute(text("SELECT answers FROM conversations"))).one()
        answers = (await session.scalars(select(Conversation))).one().answers
    for secret in ("Li Na", "13812345678", "11010519491231002X"):
        assert secret not in str(raw)
        assert secret in str(answers)
    # The report goes on from the stored answers.
    await resident.press("雄关区")
    await resident.press("新华街道")
    await resident.press("新华南路社区")
    await resident.send("13栋2单元501")
    assert resident.last.text == "Have you arrived?"


async def test_answers_stored_before_encryption_are_read_then_encrypted(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions.begin() as session:
        session.add(ChatUser(id=5, chat_id=5, created_at=clock.now(), last_seen_at=clock.now()))
    async with sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO conversations (user_id, step, answers, updated_at)"
                " VALUES (5, 'ask_name', :answers, :now)"
            ),
            {"answers": json.dumps({"name": "Li Na"}), "now": datetime(2026, 7, 1)},
        )
    async with sessions.begin() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        assert conversation.answers == {"name": "Li Na"}
        conversation.answers = {"name": "Li Na", "phone": "+8613812345678"}
    async with sessions() as session:
        (raw,) = (await session.execute(text("SELECT answers FROM conversations"))).one()
    assert "Li Na" not in str(raw) and "v1." in str(raw)


@pytest.mark.usefixtures("areas")
async def test_a_message_quoting_a_phone_is_stored_encrypted_and_sent_plain(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await worker_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    (alert,) = await deliver(sessions, clock)
    assert "Li Na" in alert.text and "+8613812345678" in alert.text
    async with sessions() as session:
        (raw,) = (
            await session.execute(text("SELECT text FROM outbox WHERE id = :id"), {"id": alert.id})
        ).one()
    assert raw.startswith("v1.") and "13812345678" not in raw and "Li Na" not in raw


def test_text_from_before_encryption_reads_as_it_was() -> None:
    keys = Keyring.generate()
    for plain in ("v1.2 released", "+8613812345678", "v1.zzzzzzzz.abc", ""):
        assert keys.decrypt(plain, "outbox.text") == plain
    sealed = keys.encrypt("v1.2 released", "outbox.text")
    assert sealed != "v1.2 released" and keys.decrypt(sealed, "outbox.text") == "v1.2 released"
