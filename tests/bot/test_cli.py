"""The admin commands, as an administrator runs them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import crypto
from models.crypto import Keyring, parse_key, use_keys
from models.db import make_engine, make_sessions
from tests.bot.test_settings import TOKEN, returnee

DEMO_AREAS = Path(__file__).parents[2] / "bot" / "demo_data" / "areas.csv"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert returnee("db", "upgrade", env=values, cwd=tmp_path).returncode == 0
    return values


def test_areas_import_then_reimport(env: dict[str, str], tmp_path: Path) -> None:
    first = returnee("admin", "areas", "import", str(DEMO_AREAS), env=env, cwd=tmp_path)
    assert first.returncode == 0 and "15 added" in first.stdout
    again = returnee("admin", "areas", "import", str(DEMO_AREAS), env=env, cwd=tmp_path)
    assert "0 added, 0 changed, 15 unchanged" in again.stdout


def test_a_bad_areas_file_names_the_line_and_imports_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\n1,市,city,\n2,区,village,1\n", encoding="utf-8")
    result = returnee("admin", "areas", "import", str(bad), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    good = returnee("admin", "areas", "import", str(DEMO_AREAS), env=env, cwd=tmp_path)
    assert "15 added" in good.stdout  # the bad file left nothing behind


def test_a_pushed_list_imported_once_with_its_bad_rows_by_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    from models.crypto import new_key
    from tests.pushed_data import fifty

    env = {**env, "DATA_KEY": new_key()}
    assert (
        returnee("admin", "areas", "import", str(DEMO_AREAS), env=env, cwd=tmp_path).returncode == 0
    )
    listed = fifty(reported=0, unreported=5, bad=2, unknown=1)
    path = tmp_path / "协查名单.csv"
    path.write_bytes(listed.data)
    command = ("admin", "pushed", "import", str(path), "--source", "省指挥部 协查")
    first = returnee(*command, "--deadline", "48h", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "list 1: 6 imported, 2 bad; 0 matched and re-screened, 6 tasks" in first.stdout
    assert "1 to a district's queue" in first.stdout
    for line in listed.bad_lines:
        assert f"line {line}: the ID number's check digit is wrong" in first.stdout
    again = returnee(*command, env=env, cwd=tmp_path)
    assert "imported already; nothing changed" in again.stdout
    late = returnee(*command, "--deadline", "3y", env=env, cwd=tmp_path)
    assert late.returncode == 2 and "--deadline" in late.stderr and "Traceback" not in late.stderr
    nonsense = tmp_path / "x.csv"
    nonsense.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = returnee(
        "admin", "pushed", "import", str(nonsense), "--source", "x", env=env, cwd=tmp_path
    )
    assert refused.returncode == 1 and "nothing was imported" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_risk_import_list_and_rescreen(env: dict[str, str], tmp_path: Path) -> None:
    listing = tmp_path / "risk.csv"
    listing.write_text(
        "place,level,valid_from,valid_to\n中国/上海市,high,2020-01-01,\n湖北省武汉市,medium,2020-01-01,\n"
        "青海省/西宁市/城东区/东关大街街道,high,2020-01-01,\n湖北省武汉市江厦区,low,2020-01-01,\n",
        encoding="utf-8",
    )
    imported = returnee("admin", "risk", "import", str(listing), env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "4 listings added" in imported.stdout and "re-screened: 0 people" in imported.stdout
    assert "matched by name only: 湖北省武汉市江厦区" in imported.stdout
    assert "to be confirmed: 青海省/西宁市/城东区/东关大街街道" in imported.stdout
    listed = returnee("admin", "risk", "list", env=env, cwd=tmp_path)
    assert "4 risk areas in force" in listed.stdout and "中国/上海市" in listed.stdout
    screened = returnee(
        "admin", "rescreen", "--place", "上海市", "--since", "2020-01-01", env=env, cwd=tmp_path
    )
    assert screened.returncode == 0 and "re-screened: 0 people in 0 grids" in screened.stdout


def test_a_policy_file_with_an_error_is_refused_at_start_with_its_line(tmp_path: Path) -> None:
    policy = tmp_path / "ours.yaml"
    policy.write_text(
        "name: ours\nplans:\n  home:\n    phases: [{kind: sofa, days: 7}]\nrules:\n  - otherwise: home\n",
        encoding="utf-8",
    )
    result = returnee("run", env={"BOT_TOKEN": TOKEN, "POLICY": str(policy)}, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("returnee: POLICY:") and "line 4" in line and "sofa" in line


def test_new_key_then_rotate_key_re_encrypts_everyone(env: dict[str, str], tmp_path: Path) -> None:
    old, new = (returnee("admin", "new-key", env={}, cwd=tmp_path).stdout.strip() for _ in "ab")
    assert old != new and len(parse_key(old)) == 32
    url = env["DATABASE_URL"]
    asyncio.run(_people_under(url, Keyring.from_settings(old)))
    # The old key is needed to read what it encrypted: said in one line.
    refused = returnee("admin", "rotate-key", env={**env, "DATA_KEY": new}, cwd=tmp_path)
    assert refused.returncode == 2 and "DATA_KEY_OLD" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    both = {**env, "DATA_KEY": new, "DATA_KEY_OLD": old}
    rotated = returnee("admin", "rotate-key", "--batch", "2", env=both, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.count("re-encrypted people up to") == 3  # 5 people, 2 a batch
    assert "re-encrypted conversations up to user 7" in rotated.stdout
    assert "re-encrypted messages up to #1" in rotated.stdout
    assert "done" in rotated.stdout
    # The new key alone reads them all now, and the unfinished conversation.
    assert asyncio.run(_phones(url, Keyring.from_settings(new))) == [
        *(f"+861380000000{i}" for i in range(5)),
        "+8613800000009",
        "+8613800000010",
    ]


async def _people_under(url: str, keys: Keyring) -> None:
    from models.areas import Area
    from models.chat import ChatUser, Conversation
    from models.outbox import enqueue
    from models.people import Household, Resident

    before = crypto.keyring()
    use_keys(keys)
    engine = make_engine(url)
    try:
        async with make_sessions(engine).begin() as session:
            now = datetime.now(UTC)
            session.add(Area(id=1, code="G", name="G", level="grid", path="G"))
            session.add(Household(id=1, grid_id=1, reporter_user_id=7, created_at=now))
            session.add(ChatUser(id=7, chat_id=7, created_at=now, last_seen_at=now))
            session.add(
                Conversation(
                    user_id=7, step="ask_id", answers={"phone": "+8613800000009"}, updated_at=now
                )
            )
            await enqueue(session, chat_id=7, text="+8613800000010", purpose="alert", now=now)
            for i in range(5):
                session.add(
                    Resident(
                        household_id=1,
                        grid_id=1,
                        reporter_user_id=7,
                        name=f"P{i}",
                        phone=f"+861380000000{i}",
                        id_number=f"E1234567{i}",
                        created_at=now,
                        updated_at=now,
                    )
                )
    finally:
        await engine.dispose()
        use_keys(before)


async def _phones(url: str, keys: Keyring) -> list[str]:
    from sqlalchemy import select

    from models.chat import Conversation
    from models.outbox import Outgoing
    from models.people import Resident

    before = crypto.keyring()
    use_keys(keys)
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            people = await session.scalars(select(Resident).order_by(Resident.id))
            phones = [p.phone or "" for p in people]
            conversation = (await session.scalars(select(Conversation))).one()
            message = (await session.scalars(select(Outgoing))).one()
            return [*phones, conversation.answers["phone"], message.text]
    finally:
        await engine.dispose()
        use_keys(before)


def test_api_tokens_created_listed_and_revoked(env: dict[str, str], tmp_path: Path) -> None:
    assert (
        returnee("admin", "areas", "import", str(DEMO_AREAS), env=env, cwd=tmp_path).returncode == 0
    )
    made = returnee(
        "admin", "api-token", "create", "--area", "620201", "--scope", "figures",
        "--expires", "90d", "--label", "指挥部", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("rtk_") and len(token) > 40
    assert "API token #1: figures of 雄关区 (620201)" in made.stderr
    listed = returnee("admin", "api-token", "list", env=env, cwd=tmp_path)
    assert "#1 " in listed.stdout and "figures" in listed.stdout and "active" in listed.stdout
    assert token not in listed.stdout  # shown once, at creation only
    assert token[:10] + "…" in listed.stdout  # its start tells it apart
    revoked = returnee("admin", "api-token", "revoke", "1", env=env, cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked" in returnee("admin", "api-token", "list", env=env, cwd=tmp_path).stdout
    for args, says in (
        (("--area", "999", "--scope", "people"), "area 999 is not known"),
        (("--area", "620201", "--scope", "people", "--expires", "soon"), "--expires"),
    ):
        refused = returnee("admin", "api-token", "create", *args, env=env, cwd=tmp_path)
        assert refused.returncode in (1, 2) and says in refused.stderr
        assert "Traceback" not in refused.stderr
    missing = returnee("admin", "api-token", "revoke", "7", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "no API token #7" in missing.stderr


def test_the_api_refuses_to_start_on_an_old_schema_in_one_line(tmp_path: Path) -> None:
    result = returnee(
        "api", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("returnee: DATABASE_URL: schema at")


def test_the_api_says_in_one_line_when_its_port_is_taken(
    env: dict[str, str], tmp_path: Path
) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = returnee("api", "--listen", f"127.0.0.1:{port}", env=env, cwd=tmp_path)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"returnee: API_LISTEN: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
